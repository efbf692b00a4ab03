"""Provides the supervisor board benchmark: the board fed N events per second from a real backend.

A backend (another process, SQLite) takes tickets from a load process (a terminal issuing
`--rate` tickets per second over keep-alive HTTP, one `ticket.issued` event each) for
`--duration` seconds. The workbench runs headless in this process, logged in as the demo
supervisor, on the board. Measured:

- commit to screen: for each event, the time from its commit (the event's `at`, same machine
  clock) to the end of the repaint that first showed it; median and p95 (target p95 < 250 ms);
- frames: the longest repaint of the board, and the longest stall of the event loop (a frame the
  user would feel; target: none over 50 ms);
- CPU: seconds of CPU used by the UI process and by the server, and the UI's share of one core.

Run: `.venv/bin/python bench/board.py` (`--duration 10 --rate 200` for a quick look).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.claims import Databases, cpu_seconds, start_server
from bench.loadgen import percentile

LOAD = """
import asyncio, sys, time, uuid
import httpx
async def main():
    rate, duration, tasks = {rate}, {duration}, 16
    async with httpx.AsyncClient(base_url="http://127.0.0.1:{port}", timeout=30) as client:
        answer = await client.post(
            "/api/v1/auth/login", json={{"username": "terminal01", "password": "demo1234"}}
        )
        client.headers["Authorization"] = "Bearer " + answer.json()["token"]
        start = time.perf_counter()
        items = ["GA-001", "GA-002", "MZ-002"]
        async def one(n):
            k = n
            while True:
                due = start + k / rate
                if due - start > duration:
                    return
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await client.post(
                    "/api/v1/tickets",
                    json={{"service_item": items[k % 3]}},
                    headers={{"Idempotency-Key": str(uuid.uuid4())}},
                )
                k += tasks
        await asyncio.gather(*(one(n) for n in range(tasks)))
asyncio.run(main())
"""


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run_board(port: int, rate: float, duration: float) -> dict[str, float]:
    from api_client.models import Event
    from screens.board import BoardScreen
    from workbench.app import WorkbenchApp
    from workbench.settings import WorkbenchSettings

    settings = WorkbenchSettings(
        server_url=f"http://127.0.0.1:{port}",
        idle_lock_minutes=0,
        outbox_path=Path(tempfile.mkdtemp()) / "outbox.sqlite3",
    )
    app = WorkbenchApp(settings)
    arrived: dict[int, float] = {}
    latencies: list[float] = []
    gaps: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await app.service.login(settings.server_url, "super01", "demo1234", None)
        app.open_main()
        for _ in range(50):
            await pilot.pause(0.05)
            screen = app.screen
            if isinstance(screen, BoardScreen) and screen.state is not None:
                break
        screen = app.screen
        assert isinstance(screen, BoardScreen) and screen.state is not None

        state = screen.state
        fold = state.apply  # the stream worker calls `state.apply` for each event

        def timed_apply(event: Event) -> bool:
            arrived[event.seq] = event.at.timestamp()
            return fold(event)

        def painted(seq: int, at: float) -> None:
            for done in [s for s in arrived if s <= seq]:
                latencies.append(at - arrived.pop(done))

        state.apply = timed_apply  # type: ignore[method-assign]
        screen.on_painted = painted
        frames_before = screen.frames

        load = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            LOAD.format(rate=rate, duration=duration, port=port),
            stderr=asyncio.subprocess.DEVNULL,
        )
        cpu_before = _cpu_self()
        started = time.perf_counter()
        last = started
        while load.returncode is None:
            await asyncio.sleep(0.002)
            moment = time.perf_counter()
            gaps.append(moment - last)
            last = moment
        load_seconds = time.perf_counter() - started
        for _ in range(20):  # let the last events reach the screen
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = _cpu_self() - cpu_before
        events = screen.state.events_applied
    ms = [1000 * x for x in latencies]
    return {
        "events": events,
        "events_per_s": events / load_seconds,
        "commit_to_screen_p50_ms": percentile(ms, 0.5),
        "commit_to_screen_p95_ms": percentile(ms, 0.95),
        "commit_to_screen_max_ms": max(ms, default=float("nan")),
        "repaints": screen.frames - frames_before,
        "longest_repaint_ms": 1000 * screen.longest_repaint,
        "longest_loop_stall_ms": 1000 * max(gaps, default=0.0),
        "loop_stalls_over_50ms": sum(1 for g in gaps if g > 0.05),
        "loop_stall_p99_ms": 1000 * percentile(gaps, 0.99),
        "ui_cpu_s": cpu,
        "ui_cpu_share": cpu / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--rate", type=float, default=500.0, help="events per second (500)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with tempfile.TemporaryDirectory() as tmp:
        url = Databases("sqlite", Path(tmp)).new(1, 1)
        from backend.embedded import free_port

        port = free_port()
        server = start_server(url, port)
        try:
            server_cpu = cpu_seconds(server.pid)
            result = asyncio.run(_run_board(port, args.rate, args.duration))
            result["server_cpu_s"] = cpu_seconds(server.pid) - server_cpu
        finally:
            server.kill()
    print("board:", json.dumps({k: round(v, 2) for k, v in result.items()}))


if __name__ == "__main__":
    main()
