"""Provides the supervisor board benchmark: the board fed N events per second from a real backend.

A backend (another process, SQLite) takes the load of `bench/ticket_load.py` (another process,
raw keep-alive HTTP): `--rate` ticket events per second for `--duration` seconds. With the
default `--mix flow` a terminal issues tickets and four clerks call, start and finish each one
(four events a ticket, short queues); `--mix issue` only issues tickets (the queues grow). The
workbench runs headless in this process, logged in as the demo supervisor, on the board.
Measured:

- commit to screen: for each event, the time from its commit (the event's `at`, same machine
  clock) to the end of the first screen refresh after the repaint that took it in; median and
  p95 (target p95 < 250 ms); and commit to client, the part of it spent before the event
  reached the board's state (server, stream, parsing);
- frames: the longest repaint of the board, and the longest stall of the event loop (whatever
  ran in one go: stream reading, repaint, compositing; target: none over 50 ms), in wall time
  and in the UI thread's CPU time (`..._cpu_...`): on a shared machine the wall time also
  counts the moments the process waited for a core, the CPU time only its own work;
- CPU: seconds of CPU used by the UI process and by the server, and the UI's share of one core.

Run: `.venv/bin/python bench/board.py` (60 s at 500 events/s; `--duration 10 --runs 3` for a
quicker look; `--py-spy out.raw` records a py-spy profile of the UI process during the load).
With `--runs` > 1 it prints each run and then the median of each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.claims import Databases, cpu_seconds, start_server
from bench.loadgen import percentile

LOAD = str(Path(__file__).resolve().parent / "ticket_load.py")


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run_board(
    port: int, rate: float, duration: float, mix: str, py_spy: str | None
) -> dict[str, float]:
    from api_client.models import Event
    from screens.app import WorkbenchApp
    from screens.board import BoardScreen
    from workbench.settings import WorkbenchSettings

    settings = WorkbenchSettings(
        server_url=f"http://127.0.0.1:{port}",
        idle_lock_minutes=0,
        outbox_path=Path(tempfile.mkdtemp()) / "outbox.sqlite3",
    )
    app = WorkbenchApp(settings)
    arrived: dict[int, float] = {}
    latencies: list[float] = []
    deliveries: list[float] = []
    gaps: list[float] = []
    gaps_cpu: list[float] = []  # the UI thread's CPU time in each gap: without other programs
    collections: list[tuple[int, float]] = []  # (generation, seconds) of each cyclic GC pass
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.thread_time()
        else:
            collections.append((info["generation"], time.thread_time() - gc_started[0]))

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
            deliveries.append(time.time() - arrived[event.seq])
            return fold(event)

        def shown(seq: int) -> None:
            at = time.time()
            for done in [s for s in arrived if s <= seq]:
                latencies.append(at - arrived.pop(done))

        def painted(seq: int, _at: float) -> None:
            screen.call_after_refresh(shown, seq)  # on screen once the refresh after it ran

        state.apply = timed_apply  # type: ignore[method-assign]
        screen.on_painted = painted
        frames_before = screen.frames

        load = await asyncio.create_subprocess_exec(
            sys.executable, LOAD, "--port", str(port), "--rate", str(rate),
            "--duration", str(duration), "--mix", mix,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        spy = None
        if py_spy:
            spy = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(os.getpid()),
                "-f", "raw", "-o", py_spy, "-r", "200", "-d", str(int(duration)),
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        cpu_before = _cpu_self()
        gc.callbacks.append(on_gc)
        started = time.perf_counter()
        last, last_cpu = started, time.thread_time()
        while load.returncode is None:
            await asyncio.sleep(0.002)
            moment, moment_cpu = time.perf_counter(), time.thread_time()
            gaps.append(moment - last)
            gaps_cpu.append(moment_cpu - last_cpu)
            last, last_cpu = moment, moment_cpu
        load_seconds = time.perf_counter() - started
        gc.callbacks.remove(on_gc)
        assert load.stdout is not None
        print("load:", (await load.stdout.read()).decode().strip(), file=sys.stderr)
        for _ in range(20):  # let the last events reach the screen
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = _cpu_self() - cpu_before
        events = screen.state.events_applied
        if spy is not None:
            await spy.wait()
    ms = [1000 * x for x in latencies]
    return {
        "events": events,
        "events_per_s": events / load_seconds,
        "commit_to_screen_p50_ms": percentile(ms, 0.5),
        "commit_to_screen_p95_ms": percentile(ms, 0.95),
        "commit_to_screen_max_ms": max(ms, default=float("nan")),
        "commit_to_client_p50_ms": 1000 * percentile(deliveries, 0.5),
        "commit_to_client_p95_ms": 1000 * percentile(deliveries, 0.95),
        "repaints": screen.frames - frames_before,
        "longest_repaint_ms": 1000 * screen.longest_repaint,
        "longest_loop_stall_ms": 1000 * max(gaps, default=0.0),
        "loop_stalls_over_50ms": sum(1 for g in gaps if g > 0.05),
        "loop_stall_p99_ms": 1000 * percentile(gaps, 0.99),
        "longest_loop_stall_cpu_ms": 1000 * max(gaps_cpu, default=0.0),
        "loop_stalls_cpu_over_50ms": sum(1 for g in gaps_cpu if g > 0.05),
        "gc_full_passes": sum(1 for generation, _ in collections if generation == 2),
        "longest_gc_ms": 1000 * max((s for _, s in collections), default=0.0),
        "ui_cpu_s": cpu,
        "ui_cpu_share": cpu / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--rate", type=float, default=500.0, help="events per second (500)")
    parser.add_argument("--mix", choices=("flow", "issue"), default="flow", help="(flow)")
    parser.add_argument("--runs", type=int, default=1, help="runs, each on a fresh backend (1)")
    parser.add_argument("--py-spy", default=None, help="record a raw py-spy profile here")
    args = parser.parse_args()
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    results = []
    for _ in range(args.runs):
        result = _one_run(args.rate, args.duration, args.mix, args.py_spy)
        print("board:", json.dumps({k: round(v, 2) for k, v in result.items()}), flush=True)
        results.append(result)
    if len(results) > 1:
        medians = {k: round(statistics.median(r[k] for r in results), 2) for k in results[0]}
        print("median:", json.dumps(medians))


def _one_run(rate: float, duration: float, mix: str, py_spy: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = Databases("sqlite", Path(tmp)).new(1, 1)
        from backend.server.embedded import free_port

        port = free_port()
        server = start_server(url, port)
        try:
            server_cpu = cpu_seconds(server.pid)
            result = asyncio.run(_run_board(port, rate, duration, mix, py_spy))
            result["server_cpu_s"] = cpu_seconds(server.pid) - server_cpu
        finally:
            server.kill()
            server.wait()
    return result


if __name__ == "__main__":
    main()
