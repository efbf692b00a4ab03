"""The `workbench` command as an integrator uses it: seed (twice), bad hall files, simulate."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from backend.runtime.settings import BackendSettings
from backend.server.embedded import EmbeddedServer
from tests.conftest import FAST_HASH, Backend, key, seeded_settings
from workbench.cli.simulate import HallSimulator, SimulationConfig, closed_hours_note


def workbench(
    *args: str, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(Path.home()),
        "WORKBENCH_PASSWORD_TIME_COST": str(FAST_HASH["password_time_cost"]),
        "WORKBENCH_PASSWORD_MEMORY_KIB": str(FAST_HASH["password_memory_kib"]),
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_seed_prints_the_accounts_and_reloading_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    first = workbench("seed", "--database", url)
    assert first.returncode == 0, first.stderr
    assert "clerk01" in first.stdout and "super01" in first.stdout
    assert "demo1234" in first.stdout
    second = workbench("seed", "--database", url, "--password", "s3cret-pass")
    assert second.returncode == 0, second.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "hall.db") as db:
        assert db.execute("SELECT count(*) FROM service_items").fetchone()[0] >= 20
        assert db.execute("SELECT count(*) FROM halls").fetchone()[0] == 1
        windows = db.execute("SELECT count(*) FROM windows").fetchone()[0]
    assert windows >= 12
    assert workbench("verify-chain", "--database", url).returncode == 0


def test_a_hall_files_new_accounts_get_random_passwords_shown_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    hall_file = str(Path(__file__).parents[2] / "backend" / "data" / "demo_hall.toml")
    first = workbench("seed", "--database", url, "--hall-file", hall_file)
    assert first.returncode == 0, first.stderr
    shown = dict(
        (line.split()[0], line.split()[-1])
        for line in first.stdout.splitlines()
        if line.startswith(("clerk", "super"))
    )
    assert len(shown) >= 10
    assert "demo1234" not in first.stdout, "never the demo's public password"
    assert len(set(shown.values())) == len(shown), "each account its own"
    again = workbench("seed", "--database", url, "--hall-file", hall_file)
    assert "(unchanged)" in again.stdout and shown["clerk01"] not in again.stdout
    with EmbeddedServer(BackendSettings(database_url=url, **FAST_HASH)) as server:
        login = httpx.post(
            f"{server.base_url}/api/v1/auth/login",
            json={"username": "clerk01", "password": shown["clerk01"], "window": "W01"},
        )
    assert login.status_code == 200, login.text


def test_a_bad_hall_file_is_refused_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "hall.toml"
    bad.write_text('[hall]\ncode = "X"\nname = "x"\n', encoding="utf-8")
    result = workbench(
        "seed", "--database", f"sqlite:///{tmp_path / 'x.db'}", "--hall-file", str(bad)
    )
    assert result.returncode == 2
    assert "hall" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_backend_setting_is_named_not_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = workbench("serve", "--database", url, env_extra={"WORKBENCH_WRITE_THREADS": "0"})
    assert result.returncode == 2
    assert (
        "WORKBENCH_WRITE_THREADS" in result.stderr and "greater than or equal to 1" in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("database", "said"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:5432/wb_no_such_database", "does not exist"),
        ("postgresql+asyncpg://postgres@127.0.0.1:5432/test", "use postgresql+psycopg://"),
        ("mysql://root@127.0.0.1/hall", "use PostgreSQL or SQLite"),
        ("not a url", "not a database URL"),
        ("", "not a database URL"),  # an unset variable in a unit file: not the default file
        ("sqlite:////proc/no/hall.db", "/proc/no"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "seed", "verify-chain"])
def test_a_database_that_cannot_be_used_is_named_not_a_traceback(
    command: str, database: str, said: str
) -> None:
    result = workbench(command, "--database", database)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


def test_the_simulator_keeps_a_hall_alive(tmp_path: Path) -> None:
    settings = seeded_settings(tmp_path)
    with EmbeddedServer(settings) as server:
        result = workbench(
            "simulate",
            "--server",
            server.base_url,
            "--rate",
            "600",
            "--online-rate",
            "120",
            "--clerks",
            "3",
            "--speed",
            "200",
            "--duration",
            "6",
            "--seed",
            "7",
        )
        assert result.returncode == 0, result.stderr
        assert f"Simulating the hall at {server.base_url}" in result.stdout
        assert "Simulated" in result.stdout
        backend = Backend(server)
        with httpx.Client(base_url=server.base_url) as client:
            token = client.post(
                "/api/v1/auth/login", json={"username": "super01", "password": "demo1234"}
            ).json()["token"]
            client.headers["Authorization"] = f"Bearer {token}"
            tickets = client.get("/api/v1/tickets", params={"limit": 500}).json()["items"]
            cases = client.get("/api/v1/cases").json()["items"]
        assert len(tickets) > 5
        assert any(t["status"] in ("called", "serving", "done", "no_show") for t in tickets)
        assert cases, "online applications arrived"
        assert backend.base_url == server.base_url


def test_the_simulator_says_why_few_visitors_come_at_night() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    night = datetime(2026, 12, 5, 3, 0, tzinfo=shanghai)
    config = SimulationConfig(server="http://127.0.0.1:1", tickets_per_minute=2.0)
    note = closed_hours_note(night, config)
    assert note is not None
    assert "03:00" in note and "08:30–17:30" in note and "--as-open" in note
    assert closed_hours_note(night.replace(hour=10), config) is None
    as_open = SimulationConfig(server="http://127.0.0.1:1", as_open=True)
    assert closed_hours_note(night, as_open) is None


def test_at_night_the_simulator_as_open_issues_tickets_and_says_so(tmp_path: Path) -> None:
    settings = seeded_settings(tmp_path)
    with EmbeddedServer(settings) as server:
        result = workbench(
            "simulate", "--server", server.base_url, "--rate", "600", "--online-rate", "0",
            "--speed", "50", "--duration", "3", "--as-open", "--seed", "3",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "outside opening hours" not in result.stdout
        issued = int(result.stdout.rsplit("Simulated ", 1)[1].split(" ")[0])
        assert issued > 20, result.stdout


async def test_the_demo_opens_its_day_with_visitors_waiting_at_every_window(
    tmp_path: Path,
) -> None:
    """F5 right after the first login calls someone (it used to say nobody waits for ~20 s)."""
    with EmbeddedServer(seeded_settings(tmp_path)) as server:
        simulator = HallSimulator(SimulationConfig(server=server.base_url, seed=1))
        issued = await simulator.open_the_day()
        assert issued == 2 * len(simulator.hall.windows)
        backend = Backend(server)
        for clerk, window in (("clerk01", "W01"), ("clerk02", "W02")):
            desk = await backend.login(clerk, window)
            called = await desk.post(f"/api/v1/windows/{window}/call-next", headers=key())
            assert called.status_code == 200, called.text
            await desk.aclose()
