"""Provides `workbench demo`: an embedded backend over a temporary SQLite file, seeded with the
demo hall, with the simulator feeding it, and the workbench opened at its login screen (the
server address filled in, the demo accounts listed). `--headless` only prints the accounts and
keeps the hall running, as before."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from backend.db.engine import Database
from backend.hall.hall_file import load_demo_hall
from backend.hall.seed import DEMO_PASSWORD, SeedReport, load_hall
from backend.runtime.passwords import Passwords
from backend.runtime.settings import BackendSettings
from backend.server.app import prepare_database
from backend.server.embedded import EmbeddedServer
from workbench.cli.simulate import HallSimulator, SimulationConfig

DEMO_HASH_TIME_COST = 1
DEMO_HASH_MEMORY_KIB = 8 * 1024
"""The demo's accounts have a published password: hashing them cheaply makes the demo start
fast and costs no security."""


def seed_demo_database(directory: Path) -> tuple[BackendSettings, SeedReport]:
    settings = BackendSettings(
        database_url=f"sqlite:///{directory / 'demo-hall.db'}",
        password_time_cost=DEMO_HASH_TIME_COST,
        password_memory_kib=DEMO_HASH_MEMORY_KIB,
    )
    db = Database(settings.database_url)
    try:
        prepare_database(db)
        passwords = Passwords(
            time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib
        )
        report = db.run_write(load_hall, load_demo_hall(), passwords, None)
    finally:
        db.close()
    return settings, report


def _simulate_in_background(
    config: SimulationConfig, *, last_windows: bool = False
) -> HallSimulator:
    """Open the day with a few visitors waiting at every window, then run the simulator in a
    thread (as in opening hours, whatever the time); `last_windows` gives its clerks the
    highest windows, leaving clerk01… free for the person trying the demo."""
    hall = load_demo_hall()
    if last_windows:
        hall = hall.model_copy(update={"users": list(reversed(hall.users))})
    simulator = HallSimulator(config, hall)
    asyncio.run(simulator.open_the_day())
    thread = threading.Thread(
        target=lambda: asyncio.run(simulator.run()), name="simulator", daemon=True
    )
    thread.start()
    return simulator


def run_demo(args: argparse.Namespace) -> int:
    if not getattr(args, "headless", False):
        return run_demo_tui(args)
    with tempfile.TemporaryDirectory(prefix="workbench-demo-") as tmp:
        settings, report = seed_demo_database(Path(tmp))
        with EmbeddedServer(settings, port=args.port or None) as server:
            config = SimulationConfig(
                server=server.base_url,
                clerks=args.clerks,
                speed=args.speed,
                tickets_per_minute=3.0,
                online_per_minute=1.0,
                as_open=True,
            )
            simulator = _simulate_in_background(config)
            print(f"Demo hall {report.hall} is open at {server.base_url}  (Ctrl+C to stop)")
            print(f"API documentation: {server.base_url}/docs")
            print(f"Demo accounts (password {DEMO_PASSWORD}):")
            for username, role, window in report.users:
                print(f"  {username:<12} {role:<11} {window or ''}")
            try:
                while True:
                    time.sleep(30)
                    print(
                        f"  … {simulator.issued} tickets issued, {simulator.applications} online "
                        f"applications, {simulator.served} visitors served"
                    )
            except KeyboardInterrupt:
                print("Demo stopped.")
    return 0


def run_demo_tui(args: argparse.Namespace) -> int:
    """The demo hall in the background, the workbench in the foreground."""
    from screens.app import WorkbenchApp
    from workbench.settings import SettingsError, load_settings

    with tempfile.TemporaryDirectory(prefix="workbench-demo-") as tmp:
        settings, report = seed_demo_database(Path(tmp))
        with EmbeddedServer(settings, port=args.port or None) as server:
            config = SimulationConfig(
                server=server.base_url,
                clerks=args.clerks,
                speed=args.speed,
                tickets_per_minute=6.0,
                online_per_minute=1.0,
                as_open=True,
            )
            simulator = _simulate_in_background(config, last_windows=True)
            try:
                workbench = load_settings(
                    server_url=server.base_url, outbox_path=Path(tmp) / "outbox.sqlite3"
                )
            except SettingsError as exc:
                print(f"workbench demo: {exc}")
                return 2
            clerks = [u for u in report.users if u[1] == "clerk" and u[2]]
            busy = (
                {u[0] for u in clerks[len(clerks) - max(0, args.clerks) :]}
                if args.clerks
                else set()
            )
            accounts = [
                u for u in report.users if u[0] not in busy and u[1] in ("clerk", "supervisor")
            ]
            app = WorkbenchApp(workbench, demo_accounts=accounts, demo_password=DEMO_PASSWORD)
            # if the exit after a hang-up gets stuck, the process is ended: remove the files
            app.hangup_cleanups.append(partial(shutil.rmtree, tmp, ignore_errors=True))
            app.run()  # returns on quit, and on SIGHUP when the terminal goes away
            with contextlib.suppress(OSError):  # no terminal left to print to after a hang-up
                print(
                    f"Demo stopped: {simulator.issued} tickets issued, {simulator.applications} "
                    f"online applications, {simulator.served} visitors served by simulated "
                    "clerks."
                )
    return app.return_code or 0
