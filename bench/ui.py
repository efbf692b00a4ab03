"""Provides the workbench UI benchmark: start-up, key to next ticket under load, list repaints.

1. Start-up: process start to an interactive login screen (the `workbench tui` command, its
   arguments and settings read as a clerk's start reads them), beside a bare Textual app with
   one Input started the same way (`python -c`, headless, exits once the first screen is ready);
   medians of N runs and their ratio (target: within 1.5x). The project's bytecode is compiled
   first, as an installed workbench's is.
2. Key to next ticket: the workbench (headless, in this process) logged in to its own window
   while `--clerks` simulated clerks each call next about every `--interval` s (another
   process, keep-alive HTTP); from the F5 key event reaching the app to the called ticket being
   on screen, p50/p95 (target p95 < 50 ms), and how much of it was the server's answer.
3. A work list of 2,000 waiting tickets receiving 50 updates per second for 5 s, synced every
   0.25 s as the main screen does; a heartbeat task measures how late the event loop runs it
   (a late beat is a frame the clerk would feel: sync, render or GC; target: none over 50 ms),
   and whether the cursor stayed on its row.

Run: `.venv/bin/python bench/ui.py` (`--quick` for fewer samples, `--only startup|list|keys`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.claims import ITEM, Databases, start_server
from bench.loadgen import percentile

BARE = """
import time, sys
from textual.app import App
from textual.widgets import Input
class Bare(App):
    def compose(self):
        yield Input(placeholder="user")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Bare().run(headless=True)
"""

WORKBENCH = """
import sys
import screens.app as app_module
first_mount = app_module.WorkbenchApp.on_mount
def on_mount(self):
    first_mount(self)
    self.set_timer(0.001, lambda: self.call_after_refresh(self.exit))
app_module.WorkbenchApp.on_mount = on_mount
run = app_module.WorkbenchApp.run
app_module.WorkbenchApp.run = lambda self, **options: run(self, headless=True)
from workbench.cli import main
sys.exit(main(["tui", "--server", "http://127.0.0.1:9"]))
"""
"""The `workbench tui` command itself (argument parsing, settings, app), headless, ending once
the login screen has painted."""


def _timed_process(code: str) -> float:
    # no config file of this machine's, and no idle lock
    env = {**os.environ, "WORKBENCH_CONFIG": os.devnull, "WORKBENCH_IDLE_LOCK_MINUTES": "0"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, timeout=60, env=env
    )
    return time.perf_counter() - start


def bench_startup(runs: int) -> dict[str, float]:
    # An installed workbench has its bytecode compiled at install (pip does), Textual's here is
    # too; a checkout run with PYTHONDONTWRITEBYTECODE would otherwise compile every start.
    root = Path(__file__).resolve().parents[1]
    packages = [str(root / name) for name in ("api_client", "workbench", "screens", "themes")]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *packages], check=True, stdout=subprocess.DEVNULL
    )
    bare, workbench = [], []
    for _ in range(runs):
        bare.append(_timed_process(BARE))
        workbench.append(_timed_process(WORKBENCH))
    b, w = statistics.median(bare), statistics.median(workbench)
    return {"bare_median_s": b, "workbench_median_s": w, "ratio": w / b}


LOAD = """
import asyncio, json, random, sys, uuid
sys.path.insert(0, {root!r})
from bench.loadgen import read_response
tokens = json.load(open({tokens!r}))
async def clerk(token, window):
    reader, writer = await asyncio.open_connection("127.0.0.1", {port})
    while True:
        request = (
            f"POST /api/v1/windows/{{window}}/call-next HTTP/1.1\\r\\nHost: x\\r\\n"
            f"Authorization: Bearer {{token}}\\r\\nIdempotency-Key: {{uuid.uuid4()}}\\r\\n"
            "Content-Length: 0\\r\\n\\r\\n"
        )
        writer.write(request.encode())
        await writer.drain()
        await read_response(reader)
        await asyncio.sleep(random.uniform(0.5 * {interval}, 1.5 * {interval}))
async def main():
    await asyncio.gather(*(clerk(t, w) for t, w in tokens))
asyncio.run(main())
"""


async def _key_to_ticket(port: int, samples: int, clerk: int) -> tuple[list[float], list[float]]:
    """(key to screen, of which the server's answer) for each F5, in seconds, as clerk `clerk`
    (the one after the simulated clerks)."""
    from textual import events

    from api_client.models import Ticket
    from screens.app import WorkbenchApp
    from screens.main import MainScreen
    from screens.widgets.visitor_panel import VisitorPanel
    from workbench.services import DeskService
    from workbench.settings import WorkbenchSettings

    round_trips: list[float] = []

    class TimedDesk(DeskService):
        async def call_next(self) -> Ticket | None:
            start = time.perf_counter()
            try:
                return await super().call_next()
            finally:
                round_trips.append(time.perf_counter() - start)

    settings = WorkbenchSettings(
        server_url=f"http://127.0.0.1:{port}",
        idle_lock_minutes=0,
        outbox_path=Path(tempfile.mkdtemp()) / "outbox.sqlite3",
    )
    app = WorkbenchApp(settings, service=TimedDesk(settings))
    latencies: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await app.service.login(
            settings.server_url, f"xclerk{clerk:02d}", "demo1234", f"X{clerk:02d}"
        )
        app.open_main()
        for _ in range(20):
            await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        panel = app.screen.query_one(VisitorPanel)
        for n in range(samples):
            before = panel.ticket.id if panel.ticket else None
            start = time.perf_counter()
            # the key as the terminal delivers it (Pilot.press would also wait for idleness)
            app.post_message(events.Key("f5", None))
            while (panel.ticket.id if panel.ticket else None) == before:
                await asyncio.sleep(0.0005)
                if time.perf_counter() - start > 30:
                    raise RuntimeError("no ticket on screen 30 s after F5")
            latencies.append(time.perf_counter() - start)
            print(
                f"  sample {n + 1}/{samples}: {1000 * latencies[-1]:.0f} ms "
                f"(server {1000 * round_trips[-1]:.0f} ms)",
                file=sys.stderr,
            )
            await pilot.press("x", "y")  # no-show (confirmed), so the next F5 calls someone new
            for _ in range(6000):  # at most 30 s for the no-show to land
                if panel.ticket is None:
                    break
                await asyncio.sleep(0.005)
            await pilot.pause()
    return latencies, round_trips[-len(latencies) :]


def bench_key_to_ticket(samples: int, clerks: int = 200, interval: float = 1.0) -> dict[str, float]:
    """F5 to the ticket on screen while `clerks` others call next every ~`interval` s each."""
    root = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory() as tmp:
        url = Databases("sqlite", Path(tmp)).new(clerks + 1, 20_000)
        from backend.server.embedded import free_port

        port = free_port()
        server = start_server(url, port)
        load = None
        try:
            import httpx

            tokens = []
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                for n in range(1, clerks + 1):
                    body = {
                        "username": f"xclerk{n:02d}",
                        "password": "demo1234",
                        "window": f"X{n:02d}",
                    }
                    answer = client.post("/api/v1/auth/login", json=body)
                    answer.raise_for_status()
                    tokens.append((answer.json()["token"], f"X{n:02d}"))
            token_file = Path(tmp) / "tokens.json"
            token_file.write_text(json.dumps(tokens))
            code = LOAD.format(root=root, tokens=str(token_file), port=port, interval=interval)
            load = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
            time.sleep(2.0)
            latencies, round_trips = asyncio.run(_key_to_ticket(port, samples, clerks + 1))
        finally:
            if load is not None:
                load.kill()
            server.kill()
    ms = [1000 * x for x in latencies]
    server_ms = [1000 * x for x in round_trips]
    ui_ms = [total - net for total, net in zip(ms, server_ms, strict=True)]
    return {
        "clerks": clerks,
        "calls_per_s_offered": clerks / interval,
        "samples": len(ms),
        "p50_ms": percentile(ms, 0.5),
        "p95_ms": percentile(ms, 0.95),
        "max_ms": max(ms),
        "server_p50_ms": percentile(server_ms, 0.5),
        "server_p95_ms": percentile(server_ms, 0.95),
        "ui_share_p50_ms": percentile(ui_ms, 0.5),
        "ui_share_p95_ms": percentile(ui_ms, 0.95),
    }


async def _list_frames(items: int, per_second: int, seconds: float) -> dict[str, float]:
    """Drive the work list as the main screen does (updates folded in as they come, a sync every
    0.25 s) while a heartbeat task measures how late the event loop runs it: a late heartbeat
    is a frame the clerk would feel, whatever blocked the loop (sync, render, GC)."""
    from textual.app import App, ComposeResult

    from api_client.models import Ticket
    from screens.widgets.work_list import WorkListTable, freeze_long_lived
    from workbench.services import DeskService
    from workbench.settings import WorkbenchSettings
    from workbench.worklist import WorkRow

    now = datetime.now(UTC)
    service = DeskService(WorkbenchSettings(idle_lock_minutes=0))
    service.worklist.configure(window="W01", username="clerk01", items=[ITEM])
    tickets = [
        Ticket.model_validate(
            {
                "id": n,
                "number": f"Z{n:05d}",
                "day": now.date().isoformat(),
                "status": "waiting",
                "service_item": ITEM,
                "issued_at": (now - timedelta(seconds=n)).isoformat(),
                "version": 1,
            }
        )
        for n in range(1, items + 1)
    ]
    service.worklist.load(tickets, [])

    class ListApp(App[None]):
        def compose(self) -> ComposeResult:
            yield WorkListTable(service)

    stalls: list[float] = []
    syncs: list[float] = []
    app = ListApp()
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.query_one(WorkListTable)
        table.focus()
        table.sync(service.worklist.ordered())
        freeze_long_lived()  # what the main screen does once the list is loaded
        await pilot.pause()
        table.move_cursor(row=20)
        await pilot.pause()
        watched = table.selected
        running = True

        async def heartbeat() -> None:
            tick = 0.002
            while running:
                start = time.perf_counter()
                await asyncio.sleep(tick)
                stalls.append(time.perf_counter() - start - tick)

        beat = asyncio.create_task(heartbeat())
        rng = random.Random(1)
        statuses = ("waiting", "called", "parked")
        end = time.perf_counter() + seconds
        next_repaint = time.perf_counter() + 0.25
        while time.perf_counter() < end:
            await asyncio.sleep(1 / per_second)
            key = f"t:{rng.randint(1, items)}"
            row = service.worklist.rows[key]
            service.worklist.rows[key] = WorkRow(
                **{**row.__dict__, "status": rng.choice(statuses), "version": row.version + 1}
            )
            if time.perf_counter() >= next_repaint:
                start = time.perf_counter()
                table.sync(service.worklist.ordered())
                syncs.append(time.perf_counter() - start)
                next_repaint += 0.25
        running = False
        await beat
        # the clerk's cursor follows its row wherever the updates moved it
        now_selected = table.selected
        cursor_kept = (
            watched is not None and now_selected is not None and now_selected.key == watched.key
        )
    return {
        "items": items,
        "updates_per_s": per_second,
        "repaints": len(syncs),
        "longest_stall_ms": 1000 * max(stalls),
        "stall_p99_ms": 1000 * percentile(stalls, 0.99),
        "sync_p95_ms": 1000 * percentile(syncs, 0.95),
        "cursor_kept": cursor_kept,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-load", action="store_true", help="skip the 200-clerk run")
    parser.add_argument("--clerks", type=int, default=200, help="simulated clerks (200)")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="mean seconds between one clerk's calls (1.0)"
    )
    parser.add_argument("--only", choices=("startup", "list", "keys"), help="run one part only")
    args = parser.parse_args()
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    runs = 3 if args.quick else 7
    if args.only in (None, "startup"):
        print("start-up:", json.dumps(bench_startup(runs)), flush=True)
    if args.only in (None, "list"):
        print("work list:", json.dumps(asyncio.run(_list_frames(2000, 50, 5.0))), flush=True)
    if args.only == "keys" or (args.only is None and not args.skip_load):
        figures = bench_key_to_ticket(20 if args.quick else 60, args.clerks, args.interval)
        print("key to next ticket:", json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
