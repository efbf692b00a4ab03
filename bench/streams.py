"""What open event streams cost a backend instance: clerks call tickets at a steady rate while N
event streams (every clerk's workbench keeps one open, every supervisor's board another) follow
the hall; for N in `--streams`:

- call latency (call next, p50/p95/p99), the calls' only job being the claim;
- CPU of the API process, as a share of one core, and database transactions per second
  (PostgreSQL: `pg_stat_database`), with the calls' own share beside it (N = 0);
- delivery: events received per stream against the events written (every stream must get all).

    python bench/streams.py [--engine postgresql|sqlite] [--streams 0,200] [--rate 100]
                            [--seconds 10] [--runs 3] [--backlog 0]

With `--backlog N` the hall's log holds N more events (calls) before the streams connect, and
the streams resume from the first event (`after=0`, a workbench back after a long absence):
they catch up from the table while the calls go on.

One `workbench serve` process; the streams are raw keep-alive HTTP/1.1 readers in this process
that count events (a minimal reader: the figures are the server's, not the client's).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import uvloop
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.server.embedded import free_port
from bench.claims import ADMIN_URL, Databases, cpu_seconds, login_all, start_server
from bench.loadgen import percentile, read_response

CALLERS = 20


@dataclass
class StreamRun:
    streams: int
    calls: int
    seconds: float
    latencies: list[float]
    api_cpu: float
    transactions: int
    delivered: list[int] = field(default_factory=list)

    def row(self) -> str:
        lat = sorted(self.latencies)
        least = min(self.delivered) if self.delivered else self.calls
        return (
            f"{self.streams:>7} {self.calls / self.seconds:>8.0f} "
            f"{percentile(lat, 0.5) * 1000:>8.1f} {percentile(lat, 0.95) * 1000:>8.1f} "
            f"{percentile(lat, 0.99) * 1000:>8.1f} {self.api_cpu / self.seconds * 100:>8.0f}% "
            f"{self.transactions / self.seconds:>8.0f} {least:>9}/{self.calls}"
        )


def transactions_so_far(url: str) -> int:
    """Committed + rolled-back transactions of the database at `url` (0 on SQLite)."""
    if make_url(url).get_backend_name() != "postgresql":
        return 0
    name = make_url(url).database
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(
                connection.execute(
                    text(
                        "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                        "WHERE datname = :name"
                    ),
                    {"name": name},
                ).scalar_one()
            )
    finally:
        engine.dispose()


async def follow(
    port: int, token: str, counts: list[int], slot: int, ready: asyncio.Event, after: str
) -> None:
    """An event stream that counts the events it receives (until cancelled)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"GET /api/v1/events{after} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}"
                "\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        while (await reader.readline()) not in (b"\r\n", b""):
            pass  # the response head
        ready.set()
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"id:"):
                counts[slot] += 1
    finally:
        writer.close()


async def call_steadily(
    port: int,
    window: str,
    token: str,
    interval: float,
    until: float,
    latencies: list[float],
    limit: int | None = None,
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    calls = 0
    next_at = time.perf_counter()
    try:
        while next_at < until and (limit is None or calls < limit):
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            request = (
                f"POST /api/v1/windows/{window}/call-next HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid.uuid4().hex}\r\n"
                "Content-Length: 0\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(request)
            status, _ = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"call next answered {status}")
            calls += 1
            next_at += interval
    finally:
        writer.close()
    return calls


async def call_times(port: int, window: str, token: str, count: int) -> None:
    await call_steadily(port, window, token, 0.0, time.perf_counter() + 3600, [], limit=count)


def newest_seq_of(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT max(seq) FROM events")).scalar() or 0)
    finally:
        engine.dispose()


def one_run(
    databases: Databases, streams: int, rate: float, seconds: float, backlog: int
) -> StreamRun:
    clerks = max(CALLERS, streams)
    url = databases.new(clerks, int(rate * seconds * 1.5) + 100 + backlog)
    port = free_port()
    server = start_server(url, port)
    try:
        tokens = asyncio.run(login_all([port], clerks))

        async def load() -> StreamRun:
            if backlog:
                per_caller = backlog // CALLERS
                await asyncio.gather(
                    *(
                        call_times(port, f"X{n:02d}", tokens[n - 1], per_caller)
                        for n in range(1, CALLERS + 1)
                    )
                )
            before = newest_seq_of(url) if backlog else 0
            counts = [0] * streams
            readies = [asyncio.Event() for _ in range(streams)]
            after = "?after=0" if backlog else ""
            followers = [
                asyncio.create_task(follow(port, tokens[n], counts, n, readies[n], after))
                for n in range(streams)
            ]
            await asyncio.gather(*(ready.wait() for ready in readies))
            await asyncio.sleep(1.0)  # the streams settle (idle polling included)
            latencies: list[float] = []
            cpu_before, transactions_before = cpu_seconds(server.pid), transactions_so_far(url)
            started = time.perf_counter()
            until = started + seconds
            interval = CALLERS / rate
            calls = await asyncio.gather(
                *(
                    call_steadily(port, f"X{n:02d}", tokens[n - 1], interval, until, latencies)
                    for n in range(1, CALLERS + 1)
                )
            )
            elapsed = time.perf_counter() - started
            api_cpu = cpu_seconds(server.pid) - cpu_before
            transactions = transactions_so_far(url) - transactions_before
            # the last events reach every stream (a backlog: until all have caught up, or 120 s)
            deadline = time.perf_counter() + (120.0 if backlog else 2.0)
            while time.perf_counter() < deadline and min(counts, default=0) < before + sum(calls):  # noqa: ASYNC110 (counters of raw readers)
                await asyncio.sleep(0.1)
            if backlog:
                print(
                    f"  (all streams caught up {time.perf_counter() - started:.1f} s after start)"
                )
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
            delivered = [count - before for count in counts]
            return StreamRun(
                streams, sum(calls), elapsed, latencies, api_cpu, transactions, delivered
            )

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(load())
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--streams", default="0,200")
    parser.add_argument("--rate", type=float, default=100.0, help="calls per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backlog", type=int, default=0, help="events before the streams")
    args = parser.parse_args()
    header = (
        f"{'streams':>7} {'calls/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'API CPU':>9} {'xacts/s':>8} {'delivered':>10}"
    )
    with tempfile.TemporaryDirectory() as workdir:
        databases = Databases(args.engine, Path(workdir))
        try:
            print(f"event streams on one instance ({args.engine}), {args.rate:.0f} calls/s")
            print(header)
            for level in (int(n) for n in args.streams.split(",")):
                runs = [
                    one_run(databases, level, args.rate, args.seconds, args.backlog)
                    for _ in range(args.runs)
                ]
                for run in runs:
                    print(run.row())
                merged = StreamRun(
                    level,
                    sum(r.calls for r in runs),
                    sum(r.seconds for r in runs),
                    [x for r in runs for x in r.latencies],
                    sum(r.api_cpu for r in runs),
                    sum(r.transactions for r in runs),
                    [sum(min(r.delivered) for r in runs)] if level else [],
                )
                median_rate = statistics.median(r.calls / r.seconds for r in runs)
                print(f"{'all':>7} {median_rate:>8.0f}" + merged.row()[16:] + "  (all runs)")
        finally:
            databases.drop_all()


if __name__ == "__main__":
    main()
