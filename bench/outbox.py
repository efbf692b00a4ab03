"""Provides the outbox benchmark: decisions per second through the outbox with the server up,
and how long a backlog of 1,000 decisions takes to drain after the server comes back.

Each run seeds a fresh SQLite hall, serves it with `workbench serve` in a child process on
127.0.0.1 (so client and server do not share a GIL) and has a clerk at W04 decide on tickets
(call, start, finish: three decisions per ticket, each ordered behind the previous one of its
ticket). The outage is real: the server process is killed (SIGKILL) and started again on the same
port and file. Prints medians (and the spread) over several runs:

    .venv/bin/python bench/outbox.py --runs 5 --concurrency 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api_client import Client, Mutation, RetryPolicy
from api_client.models import Ticket, TicketActionRequest, TicketIssue
from backend.db.engine import Database
from backend.hall.hall_file import load_demo_hall
from backend.hall.seed import DEMO_PASSWORD, load_hall
from backend.runtime.passwords import Passwords
from backend.runtime.settings import BackendSettings
from backend.server.app import prepare_database
from backend.server.embedded import free_port
from workbench.outbox import Outbox

ROOT = Path(__file__).resolve().parent.parent
SERVICE_ITEM = "MZ-001"  # served by window W04
FAST_HASH_ENV = {"WORKBENCH_PASSWORD_TIME_COST": "1", "WORKBENCH_PASSWORD_MEMORY_KIB": "8192"}
DONE = TicketActionRequest(outcome="completed")


@dataclass
class RunResult:
    direct_per_s: float
    decisions_per_s: float
    backlog_drain_s: float
    backlog_send_s: float


def seed(directory: Path) -> BackendSettings:
    settings = BackendSettings(
        database_url=f"sqlite:///{directory / 'hall.db'}",
        password_time_cost=1,
        password_memory_kib=8192,
    )
    db = Database(settings.database_url)
    try:
        prepare_database(db)
        passwords = Passwords(time_cost=1, memory_kib=8192)
        db.run_write(load_hall, load_demo_hall(), passwords, None)
    finally:
        db.close()
    return settings


class ServerProcess:
    """`workbench serve` as a child process on a fixed port."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        command = [sys.executable, "-m", "workbench.cli", "serve", "--database", self.database_url]
        command += ["--port", str(self.port), "--log-level", "warning"]
        env = {**os.environ, **FAST_HASH_ENV}
        self.process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env)
        async with Client(self.base_url, retry=RetryPolicy(attempts=1)) as probe:
            for _ in range(600):
                try:
                    await probe.healthz()
                    return
                except Exception:
                    await asyncio.sleep(0.05)
        raise RuntimeError("the backend process did not start")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


async def issue_tickets(terminal: Client, count: int) -> list[Ticket]:
    issue = TicketIssue(service_item=SERVICE_ITEM)
    semaphore = asyncio.Semaphore(8)

    async def one() -> Ticket:
        async with semaphore:
            return await terminal.issue_ticket(issue)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def enqueue_decisions(outbox: Outbox, tickets: list[Ticket]) -> int:
    for ticket in tickets:
        await outbox.enqueue(Mutation.ticket_action(ticket.id, "call"), hold=False)
        await outbox.enqueue(Mutation.ticket_action(ticket.id, "start"), hold=False)
        await outbox.enqueue(Mutation.ticket_action(ticket.id, "finish", DONE), hold=False)
    return 3 * len(tickets)


async def send_directly(clerk: Client, tickets: list[Ticket]) -> float:
    """The baseline: the same decisions sent one by one without the outbox; decisions/s."""
    started = time.perf_counter()
    for ticket in tickets:
        await clerk.send(Mutation.ticket_action(ticket.id, "call"), retry=False)
        await clerk.send(Mutation.ticket_action(ticket.id, "start"), retry=False)
        await clerk.send(Mutation.ticket_action(ticket.id, "finish", DONE), retry=False)
    return 3 * len(tickets) / (time.perf_counter() - started)


async def one_run(decisions: int, backlog: int, concurrency: int) -> RunResult:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(seed(Path(tmp)).database_url)
        await server.start()
        terminal, clerk = Client(server.base_url), Client(server.base_url)
        await terminal.login("terminal01", DEMO_PASSWORD)
        await clerk.login("clerk04", DEMO_PASSWORD, "W04")
        direct_tickets = await issue_tickets(terminal, decisions // 3)
        up_tickets = await issue_tickets(terminal, decisions // 3)
        down_tickets = await issue_tickets(terminal, backlog // 3)
        answers: list[float] = []
        outbox = Outbox(Path(tmp) / "outbox.db", clerk, undo_seconds=0, concurrency=concurrency)
        outbox.add_sent_listener(lambda entry, result: answers.append(time.perf_counter()))
        await outbox.start()
        try:
            direct = await send_directly(clerk, direct_tickets)
            started = time.perf_counter()
            count = await enqueue_decisions(outbox, up_tickets)
            await outbox.wait_idle()
            rate = count / (time.perf_counter() - started)

            await server.kill()
            await enqueue_decisions(outbox, down_tickets)
            await asyncio.sleep(0.5)  # the outbox notices the outage and backs off
            await server.start()
            back = time.perf_counter()
            answers.clear()
            await outbox.wait_idle()
            drained = time.perf_counter()
            assert outbox.status.conflicts == 0, outbox.status
        finally:
            await outbox.aclose()
            await terminal.aclose()
            await clerk.aclose()
            await server.kill()
        return RunResult(direct, rate, drained - back, drained - answers[0])


def describe(name: str, values: list[float], unit: str) -> str:
    """Median and spread; several runs, never one timing."""
    median = statistics.median(values)
    return (
        f"{name:<42} median {median:9.2f} {unit:<11} (min {min(values):.2f}, max {max(values):.2f})"
    )


async def main(runs: int, decisions: int, backlog: int, concurrency: int) -> None:
    results = []
    for n in range(runs):
        result = await one_run(decisions, backlog, concurrency)
        results.append(result)
        print(
            f"run {n + 1}: {result.direct_per_s:.0f} decisions/s direct, "
            f"{result.decisions_per_s:.0f} through the outbox; backlog of {backlog} drained "
            f"{result.backlog_drain_s:.2f} s after the server was back "
            f"({result.backlog_send_s:.2f} s of sending)",
            file=sys.stderr,
        )
    print(
        f"outbox benchmark: {runs} runs, {decisions} decisions with the server up, "
        f"backlog {backlog}, concurrency {concurrency}"
    )
    rows = [
        ("direct sends, no outbox (baseline)", [r.direct_per_s for r in results], "decisions/s"),
        ("decisions through the outbox, server up", [r.decisions_per_s for r in results],
         "decisions/s"),
        ("outbox / direct", [r.decisions_per_s / r.direct_per_s for r in results], "ratio"),
        ("backlog drain after the server returns", [r.backlog_drain_s for r in results], "s"),
        ("  of which sending (first to last answer)", [r.backlog_send_s for r in results], "s"),
    ]  # fmt: skip
    for name, values, unit in rows:
        print(describe(name, values, unit))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--decisions", type=int, default=999, help="decisions with the server up")
    parser.add_argument("--backlog", type=int, default=1000, help="decisions queued while down")
    parser.add_argument("--concurrency", type=int, default=1, help="the outbox's concurrency")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.decisions, args.backlog, args.concurrency))
