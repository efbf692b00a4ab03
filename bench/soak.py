"""Provides the soak run (`make soak`) and the pieces the fast tests reuse.

Two phases, each against `workbench serve` as a child process over a fresh SQLite file:

- fault injection: clients with offline outboxes (terminals issuing tickets, clerks calling next)
  send their changes while the backend is SIGKILLed at random moments and restarted; afterwards
  every outbox entry must have been answered, each idempotency key must have taken effect exactly
  once (one ticket per issue, no ticket called twice) and the event log must agree and verify.
- load: clerks call next / start / finish in a loop while terminals issue tickets; then an
  exclusion check (no ticket called by two windows) and a completeness check (every ticket the
  terminals were told about exists, every `ticket.issued` event has its ticket) over the log,
  and the latency percentiles.

`python bench/soak.py` runs the long version (10,000 changes, 200 clerks for 10 minutes) and
prints a summary; `--changes`, `--clerks`, `--seconds` shrink it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api_client import Client, Mutation  # noqa: E402
from api_client.models import TicketIssue  # noqa: E402
from backend.db.engine import Database  # noqa: E402
from backend.db.schema import events, tickets  # noqa: E402
from backend.events.chain import verify_chain  # noqa: E402
from backend.hall.hall_file import load_demo_hall  # noqa: E402
from backend.hall.seed import DEMO_PASSWORD, hall_with_extra_clerks, load_hall  # noqa: E402
from backend.runtime.passwords import Passwords  # noqa: E402
from backend.server.app import prepare_database  # noqa: E402
from tests.servers import ServerProcess  # noqa: E402
from workbench.outbox import Backoff, EntryState, Outbox  # noqa: E402

ITEM = "MZ-001"
FAST = Backoff(initial=0.05, cap=0.5)


def seed(directory: Path, clerks: int) -> str:
    """A fresh SQLite hall: the demo hall plus `clerks` windows X01.. serving one item."""
    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'hall.db'}"
    db = Database(url)
    try:
        prepare_database(db)
        hall = hall_with_extra_clerks(load_demo_hall(), clerks, ITEM)
        db.run_write(load_hall, hall, Passwords(time_cost=1, memory_kib=8192), None)
    finally:
        db.close()
    return url


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---------------------------------------------------------------------------------------------
# fault injection
# ---------------------------------------------------------------------------------------------


@dataclass
class FaultReport:
    changes: int = 0
    answered: int = 0
    faults: int = 0
    resent: int = 0
    issued: int = 0
    tickets_in_db: int = 0
    calls_answered: int = 0
    called_events: int = 0
    double_applied: int = 0
    lost: int = 0
    conflicts: int = 0
    chain_intact: bool = False
    chain_rows: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.answered == self.changes
            and self.double_applied == 0
            and self.lost == 0
            and self.conflicts == 0
            and self.chain_intact
        )


def _restart(server: ServerProcess, attempts: int = 3) -> None:
    """Start the backend again; a loaded machine may need more than one try."""
    for attempt in range(attempts):
        try:
            server.start(timeout=90)
            return
        except RuntimeError:
            if attempt == attempts - 1:
                raise


async def _killer(
    server: ServerProcess,
    stop: asyncio.Event,
    report: FaultReport,
    kills: int,
    rng: random.Random,
    pending: Callable[[], int],
) -> None:
    """SIGKILL the backend `kills` times, spread over the run by progress (not by the clock,
    which a fast machine would outrun): the k-th kill comes once about k/(kills+1) of the
    changes are through, at a random moment within that stretch."""
    total = pending()
    for k in range(1, kills + 1):
        threshold = total * (k - rng.uniform(0.2, 0.8)) / kills
        # the outboxes' counters offer nothing to await: poll them
        while not stop.is_set() and total - pending() < threshold:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if stop.is_set():
            return
        server.kill()
        report.faults += 1
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        await asyncio.to_thread(_restart, server)


async def fault_injection(
    workdir: Path, *, changes: int, clients: int = 20, kills: int = 3, seed_: int = 7
) -> FaultReport:
    """`changes` outbox entries from `clients` outboxes (half terminals issuing, half clerks
    calling next), the backend SIGKILLed `kills` times meanwhile; then the checks."""
    started = time.monotonic()
    rng = random.Random(seed_)
    calling = max(1, clients // 2)
    url = seed(workdir / "db", calling)
    server = ServerProcess(url).start()
    report = FaultReport(changes=changes)
    outboxes: list[tuple[str, Outbox, Client]] = []
    try:
        per_client = changes // clients
        for n in range(clients):
            client = Client(server.base_url, timeout=10)
            if n < clients - calling:
                await client.login("terminal01", DEMO_PASSWORD)
                kind = "issue"
            else:
                window = f"X{n - (clients - calling) + 1:02d}"
                await client.login(f"xclerk{window[1:]}", DEMO_PASSWORD, window)
                kind = "call"
            outbox = Outbox(workdir / f"outbox-{n}.db", client, undo_seconds=0, backoff=FAST)
            count = per_client + (1 if n < changes - per_client * clients else 0)
            for _ in range(count):
                if kind == "issue":
                    await outbox.enqueue(Mutation.issue_ticket(TicketIssue(service_item=ITEM)))
                else:
                    await outbox.enqueue(Mutation.call_next(f"X{n - (clients - calling) + 1:02d}"))
            outboxes.append((kind, outbox, client))
        stop = asyncio.Event()

        def pending() -> int:
            return sum(o.status.pending for _, o, _ in outboxes)

        killer = asyncio.create_task(_killer(server, stop, report, kills, rng, pending))
        for _, outbox, _ in outboxes:
            await outbox.start()
        # 20 outboxes in one process drain ~10-20 changes/s here (each sends in order)
        async with asyncio.timeout(max(120, changes / 4 + kills * 15)):
            while report.faults < kills and not killer.done():
                await asyncio.sleep(0.1)
                if all(o.status.pending == 0 for _, o, _ in outboxes):
                    break
            stop.set()
            await killer
            if server.process is None or server.process.poll() is not None:
                _restart(server)
            for _, outbox, _ in outboxes:
                await outbox.wait_idle()
        issued_ids: list[int] = []
        called_ids: list[int] = []
        for kind, outbox, _ in outboxes:
            sent = await outbox.entries(EntryState.SENT)
            report.answered += len(sent)
            report.resent += sum(1 for e in sent if e.attempts > 1)
            report.conflicts += outbox.status.conflicts
            for entry in sent:
                if kind == "issue":
                    issued_ids.append(int(entry.response["id"]))
                elif entry.response_status == 200:
                    called_ids.append(int(entry.response["id"]))
    finally:
        for _, outbox, client in outboxes:
            await outbox.aclose()
            await client.aclose()
        server.stop()
    db = Database(url)
    try:
        chain = db.run_read(verify_chain)
        rows = db.run_read(_ticket_facts)
    finally:
        db.close()
    in_db, issued_events, called_events = rows
    report.issued = len(issued_ids)
    report.tickets_in_db = len(in_db)
    report.calls_answered = len(called_ids)
    report.called_events = sum(called_events.values())
    # exactly once, by idempotency key: one ticket per issue entry, each call entry one call
    report.double_applied = (
        (len(in_db) - len(set(issued_ids)))
        + (len(issued_ids) - len(set(issued_ids)))
        + sum(n - 1 for n in called_events.values() if n > 1)
        + (report.called_events - len(set(called_ids)))
    )
    report.lost = len(set(issued_ids) - set(in_db)) + len(set(called_ids) - set(called_events))
    report.lost += sum(1 for t in in_db if issued_events[t] != 1)
    report.chain_intact, report.chain_rows = chain.intact, chain.rows
    report.seconds = time.monotonic() - started
    return report


def _ticket_facts(conn: Any) -> tuple[list[int], Counter[int], Counter[int]]:
    from sqlalchemy import select

    ids = list(conn.scalars(select(tickets.c.id)))
    issued: Counter[int] = Counter()
    called: Counter[int] = Counter()
    query = select(events.c.type, events.c.subject_id).where(
        events.c.type.in_(("ticket.issued", "ticket.called"))
    )
    for row in conn.execute(query):
        (issued if row.type == "ticket.issued" else called)[int(row.subject_id)] += 1
    return ids, issued, called


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    clerks: int = 0
    seconds: float = 0.0
    requests: int = 0
    errors: Counter[int] = field(default_factory=Counter)
    issued: int = 0
    served: int = 0
    double_claims: int = 0
    lost: int = 0
    latencies: list[float] = field(default_factory=list)
    chain_intact: bool = False

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000

    @property
    def ok(self) -> bool:
        return self.double_claims == 0 and self.lost == 0 and self.chain_intact


async def _timed(
    client: httpx.AsyncClient, report: LoadReport, url: str, body: Any = None
) -> httpx.Response:
    started = time.perf_counter()
    try:
        response = await client.post(url, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    except httpx.TransportError:  # timeouts, dropped keep-alives: counted as 599, not fatal
        report.latencies.append(time.perf_counter() - started)
        report.requests += 1
        report.errors[599] += 1
        return httpx.Response(599)
    report.latencies.append(time.perf_counter() - started)
    report.requests += 1
    if response.status_code >= 500:
        report.errors[response.status_code] += 1
    return response


async def _login(base_url: str, user: str, window: str | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    body: dict[str, Any] = {"username": user, "password": DEMO_PASSWORD}
    if window:
        body["window"] = window
    response = await client.post("/api/v1/auth/login", json=body)
    response.raise_for_status()
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


async def load(workdir: Path, *, clerks: int, seconds: float, terminals: int = 4) -> LoadReport:
    """`clerks` clerks call next, start and finish while `terminals` issue tickets."""
    url = seed(workdir / "db", clerks)
    server = ServerProcess(url).start()
    report = LoadReport(clerks=clerks)
    issued_ids: list[int] = []
    stop = asyncio.Event()
    try:
        terminal_clients = [await _login(server.base_url, "terminal01") for _ in range(terminals)]
        clerk_clients = [
            await _login(server.base_url, f"xclerk{n:02d}", f"X{n:02d}")
            for n in range(1, clerks + 1)
        ]

        async def issue(client: httpx.AsyncClient) -> None:
            while not stop.is_set():
                response = await _timed(client, report, "/api/v1/tickets", {"service_item": ITEM})
                if response.status_code == 201:
                    issued_ids.append(int(response.json()["id"]))
                await asyncio.sleep(0.002)

        async def serve(client: httpx.AsyncClient, window: str) -> None:
            while not stop.is_set():
                called = await _timed(client, report, f"/api/v1/windows/{window}/call-next")
                if called.status_code != 200:
                    await asyncio.sleep(0.05)
                    continue
                ticket = called.json()["id"]
                await _timed(client, report, f"/api/v1/tickets/{ticket}/start")
                finished = await _timed(
                    client, report, f"/api/v1/tickets/{ticket}/finish", {"outcome": "completed"}
                )
                report.served += finished.status_code == 200

        started = time.monotonic()
        tasks = [asyncio.create_task(issue(c)) for c in terminal_clients]
        tasks += [
            asyncio.create_task(serve(c, f"X{n:02d}")) for n, c in enumerate(clerk_clients, start=1)
        ]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks)
        report.seconds = time.monotonic() - started
        for client in terminal_clients + clerk_clients:
            await client.aclose()
    finally:
        server.stop()
    db = Database(url)
    try:
        chain = db.run_read(verify_chain)
        in_db, issued_events, called_events = db.run_read(_ticket_facts)
    finally:
        db.close()
    report.issued = len(issued_ids)
    report.double_claims = sum(1 for n in called_events.values() if n > 1)
    report.lost = len(set(issued_ids) - set(in_db)) + sum(
        1 for t in set(in_db) | set(issued_events) if issued_events[t] != 1 or t not in in_db
    )
    report.chain_intact = chain.intact
    return report


# ---------------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--clerks", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        faults = asyncio.run(
            fault_injection(
                Path(tmp) / "faults", changes=args.changes, clients=args.clients, kills=args.kills
            )
        )
        loaded = asyncio.run(load(Path(tmp) / "load", clerks=args.clerks, seconds=args.seconds))
    summary = {
        "fault_injection": {
            "changes": faults.changes,
            "answered": faults.answered,
            "faults_injected": faults.faults,
            "resent_after_a_fault": faults.resent,
            "double_applied": faults.double_applied,
            "lost": faults.lost,
            "conflicts": faults.conflicts,
            "events": faults.chain_rows,
            "chain_intact": faults.chain_intact,
            "seconds": round(faults.seconds, 1),
        },
        "load": {
            "clerks": loaded.clerks,
            "seconds": round(loaded.seconds, 1),
            "requests": loaded.requests,
            "requests_per_second": round(loaded.requests / max(loaded.seconds, 1e-9)),
            "server_errors": dict(loaded.errors),
            "tickets_issued": loaded.issued,
            "decisions": loaded.served,
            "double_claims": loaded.double_claims,
            "lost_items": loaded.lost,
            "p50_ms": round(loaded.p50_ms, 1),
            "p99_ms": round(loaded.p99_ms, 1),
            "chain_intact": loaded.chain_intact,
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for section, values in summary.items():
            print(f"[{section}]")
            for name, value in values.items():
                print(f"  {name:<22} {value}")
    return 0 if faults.ok and loaded.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
