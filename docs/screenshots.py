"""Exports the README's screenshots: the main screen and the case screen, as SVG, by the app itself.

An embedded backend over a temporary SQLite file is seeded with the demo hall; a terminal issues
a few tickets and the portal files two online applications; then the workbench runs headless at
160x48, logs in as clerk01 at W01, calls and starts the first visitor (the main screen), claims
an online application and checks its first materials (the case screen). Nothing is mocked.

Run: `.venv/bin/python docs/screenshots.py [--out docs/screenshots] [--language en|zh]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

SIZE = (160, 48)
TICKETS = [
    {
        "service_item": "GA-001",
        "applicant_name": "王小明",
        "applicant_id_number": "210203194805170013",
        "priority_class": "elderly",
    },
    {"service_item": "GA-002"},
    {"service_item": "GA-001"},
    {"service_item": "GA-002", "applicant_name": "赵丽"},
]


def _upload(material: str) -> dict[str, object]:
    return {
        "material": material,
        "file_name": f"{material}.pdf",
        "size": 1024,
        "sha256": uuid.uuid4().hex * 2,
    }


async def _fill_hall(base_url: str) -> None:
    import httpx

    from api_client.identity import make_resident_id

    async def login(client: httpx.AsyncClient, username: str) -> None:
        answer = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": "demo1234"}
        )
        answer.raise_for_status()
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    async with (
        httpx.AsyncClient(base_url=base_url) as terminal,
        httpx.AsyncClient(base_url=base_url) as portal,
    ):
        await login(terminal, "terminal01")
        await login(portal, "portal01")
        for body in TICKETS:
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            (await terminal.post("/api/v1/tickets", json=body, headers=headers)).raise_for_status()
        for n, name in enumerate(("刘建国", "陈静"), start=1):
            intake = {
                "service_item": "GA-002",
                "applicant": {
                    "id_number": make_resident_id("210203", date(1968 + n, 5, 17), 301 + 2 * n),
                    "name": name,
                },
                "materials": [_upload("id_card"), _upload("household_register")],
            }
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            (await portal.post("/api/v1/cases", json=intake, headers=headers)).raise_for_status()


async def _settle(app: object, pilot: object, rounds: int = 3) -> None:
    from textual.pilot import Pilot
    from textual.worker import WorkerCancelled, WorkerFailed

    from screens.app import WorkbenchApp

    assert isinstance(app, WorkbenchApp) and isinstance(pilot, Pilot)
    for _ in range(rounds):
        await pilot.pause()
        busy = [w for w in app.workers if w.group != "events" and not w.is_finished]
        if not busy:  # an empty list would mean "every worker", the endless stream too
            break
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete(busy)
    if app.service.session is not None:
        await app.service.ws.outbox.wait_idle()
    await pilot.pause()


async def _shoot(base_url: str, out: Path, language: str, workdir: Path) -> list[Path]:
    from screens.app import WorkbenchApp
    from screens.case import CaseScreen
    from screens.main import MainScreen
    from workbench.settings import WorkbenchSettings

    settings = WorkbenchSettings(
        server_url=base_url,
        outbox_path=workdir / "outbox.sqlite3",
        idle_lock_minutes=0,
        undo_seconds=0.2,
        language=language,
    )
    app = WorkbenchApp(settings)
    suffix = "" if language == "en" else f"-{language}"
    written: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:
        await app.service.login(base_url, "clerk01", "demo1234", "W01")
        app.open_main()
        await _settle(app, pilot)
        assert isinstance(app.screen, MainScreen), app.screen
        await pilot.press("f5")
        await _settle(app, pilot)
        await pilot.press("s")
        await _settle(app, pilot)
        await pilot.pause(1.2)  # let the "called" toast fade from the picture
        written.append(Path(app.save_screenshot(f"main{suffix}.svg", str(out))))

        await pilot.press("o")  # claim the next online application: the case screen
        await _settle(app, pilot)
        assert isinstance(app.screen, CaseScreen), app.screen
        await pilot.press("1", "m")  # ID card sighted, household register missing
        await _settle(app, pilot)
        await pilot.press("up", "up", "i", "tab", "tab", "tab", "tab", *"2031-05-01", "enter")
        await _settle(app, pilot)
        await pilot.pause(1.2)
        written.append(Path(app.save_screenshot(f"case{suffix}.svg", str(out))))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--language", choices=("en", "zh"), default="en")
    args = parser.parse_args()

    from backend.server.embedded import EmbeddedServer
    from workbench.cli.demo import seed_demo_database

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="workbench-shots-") as tmp:
        settings, _report = seed_demo_database(Path(tmp))
        with EmbeddedServer(settings) as server:
            asyncio.run(_fill_hall(server.base_url))
            for path in asyncio.run(_shoot(server.base_url, args.out, args.language, Path(tmp))):
                print(path)


if __name__ == "__main__":
    main()
