"""Claims per second through the API (call next) with 1, 50 and 200 concurrent clerks, beside the
same claim as bare SQL on the same kind of database; checks that no ticket is claimed twice.

    python bench/claims.py [--engine sqlite|postgresql] [--instances 1|2] [--runs 3]
                           [--levels 1,50,200] [--per-clerk 50] [--sessions 1]

The backend runs as its own process(es) (`workbench serve`), as in production; with several
instances the clerks are spread over them round-robin. `--sessions N` logs each clerk in N
times (a clerk at two desks, a double-click from two terminals): N sessions call next for every
window at once, spread round-robin over the instances, so one window's calls reach all of them;
a session that gets 409 or 5xx counts it (column 5xx) and calls again. The load comes from
this process over keep-alive HTTP/1.1 connections, one per session (a minimal client: httpx
would cost more CPU per request than the server). PostgreSQL: a throw-away database per run on
$WORKBENCH_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvloop
from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.db.engine import Database
from backend.db.event_log import Actor
from backend.db.provision import DEFAULT_ADMIN_URL, create_database, drop_database
from backend.hall.hall_file import load_demo_hall
from backend.hall.seed import DEMO_PASSWORD, add_waiting_tickets, hall_with_extra_clerks, load_hall
from backend.queue.calling import call_next
from backend.runtime.passwords import Passwords
from backend.server.app import prepare_database
from backend.server.embedded import free_port
from bench.loadgen import Results, percentile, post_until_empty

ITEM = "MZ-001"
FAST_HASH = {"WORKBENCH_PASSWORD_TIME_COST": "1", "WORKBENCH_PASSWORD_MEMORY_KIB": "8192"}
ADMIN_URL = os.environ.get("WORKBENCH_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


@dataclass
class Run:
    clerks: int
    claims: int
    seconds: float
    latencies: list[float]
    doubles: int
    errors: int = 0  # 5xx answers (the sessions called again)
    deadlocks: int = 0  # PostgreSQL: deadlocks the database broke during the run
    server_cpu: float = 0.0  # CPU seconds the API process(es) used for the claims
    database_cpu: float = 0.0  # CPU seconds of the PostgreSQL server processes meanwhile

    @property
    def cpu_ms_per_claim(self) -> float:
        return self.server_cpu / self.claims * 1000

    @property
    def rate(self) -> float:
        return self.claims / self.seconds


class Databases:
    """Fresh databases of one engine, removed at the end."""

    def __init__(self, engine: str, workdir: Path) -> None:
        self.engine = engine
        self.workdir = workdir
        self.created: list[str] = []

    def new(self, clerks: int, tickets: int) -> str:
        if self.engine == "sqlite":
            url = f"sqlite:///{self.workdir / f'claims-{len(self.created)}.db'}"
        else:
            url = create_database(ADMIN_URL, prefix="wbbench")
        self.created.append(url)
        db = Database(url)
        prepare_database(db)
        hall = hall_with_extra_clerks(load_demo_hall(), clerks, ITEM)
        db.run_write(load_hall, hall, Passwords(time_cost=1, memory_kib=8192), None)
        db.run_write(add_waiting_tickets, "DL-ZS", ITEM, tickets, datetime.now(UTC))
        db.close()
        return url

    def drop_all(self) -> None:
        if self.engine == "postgresql":
            for url in self.created:
                drop_database(url, ADMIN_URL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time so far of every PostgreSQL server process on this machine (Linux /proc);
    0 when none runs (SQLite). Processes that ended meanwhile are not counted."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                total += cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


def start_server(url: str, port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`workbench serve` on `port`; its log goes to `log` if given (else to this terminal)."""
    env = {**os.environ, **FAST_HASH, "WORKBENCH_DATABASE_URL": url}
    command = [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)]
    output = None if log is None else log.open("ab")
    process = subprocess.Popen(
        [*command, "--log-level", "warning"], env=env, stdout=output, stderr=output
    )
    if output is not None:
        output.close()  # the child has its own copy
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("backend did not start")


@dataclass(frozen=True)
class Session:
    window: int  # clerk xclerkNN at window XNN
    port: int
    token: str


async def login_all(ports: list[int], clerks: int) -> list[str]:
    """One token per clerk, clerk n logged in on instance n mod instances."""
    return [session.token for session in await login_sessions(ports, clerks, 1)]


async def login_sessions(ports: list[int], clerks: int, sessions: int) -> list[Session]:
    """`sessions` logins per clerk, spread over the instances (the k-th session of clerk n on
    instance (n + k) mod instances, so one window's sessions reach all of them). With several
    sessions the logins go one after the other: what is measured is the calls."""

    async def one(n: int, port: int) -> Session:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            body = {"username": f"xclerk{n:02d}", "password": DEMO_PASSWORD, "window": f"X{n:02d}"}
            response = await client.post("/api/v1/auth/login", json=body)
            response.raise_for_status()
            return Session(n, port, str(response.json()["token"]))

    logins = [
        (n, ports[(n + k) % len(ports)]) for k in range(sessions) for n in range(1, clerks + 1)
    ]
    if sessions == 1:
        return list(await asyncio.gather(*(one(n, port) for n, port in logins)))
    return [await one(n, port) for n, port in logins]


def deadlocks_in(url: str) -> int:
    """PostgreSQL: the deadlocks the database detected so far (0 on SQLite)."""
    if not url.startswith("postgresql"):
        return 0

    def count(conn: Connection) -> int:
        statement = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        return int(conn.execute(text(statement)).scalar_one())

    db = Database(url)
    try:
        return db.run_read(count)
    finally:
        db.close()


def double_claims_in_log(url: str) -> int:
    def count(conn: Connection) -> int:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT subject_id FROM events "
                    "WHERE type='ticket.called' GROUP BY subject_id HAVING count(*) > 1) d"
                )
            ).scalar_one()
        )

    db = Database(url)
    try:
        return db.run_read(count)
    finally:
        db.close()


def api_run(
    databases: Databases, instances: int, clerks: int, per_clerk: int, sessions: int = 1
) -> Run:
    url = databases.new(clerks, clerks * per_clerk)
    ports = [free_port() for _ in range(instances)]
    servers = [start_server(url, port, databases.workdir / "servers.log") for port in ports]
    try:
        logged_in = asyncio.run(login_sessions(ports, clerks, sessions))
        results = Results()

        cpu_before = sum(cpu_seconds(server.pid) for server in servers)
        database_before = postgres_cpu_seconds()

        async def load() -> float:
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    post_until_empty(
                        "127.0.0.1",
                        session.port,
                        f"/api/v1/windows/X{session.window:02d}/call-next",
                        session.token,
                        results,
                        retry_errors=sessions > 1,
                    )
                    for session in logged_in
                )
            )
            return time.perf_counter() - started

        client_cpu = time.process_time()
        # uvloop, as uvicorn uses: the load generator shares the 2 cores with the server
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            seconds = runner.run(load())
        client_cpu = time.process_time() - client_cpu
        print(f"  (load generator CPU {client_cpu / (clerks * per_clerk) * 1000:.2f} ms/claim)")
        server_cpu = sum(cpu_seconds(server.pid) for server in servers) - cpu_before
        database_cpu = postgres_cpu_seconds() - database_before
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    ids = Counter(json.loads(body)["id"] for body in results.bodies)
    doubles = sum(1 for count in ids.values() if count > 1) + double_claims_in_log(url)
    claims = len(results.bodies)
    if claims != clerks * per_clerk:
        raise AssertionError(
            f"{claims} claims for {clerks * per_clerk} tickets: {results.statuses}"
        )
    errors = sum(count for status, count in results.statuses.items() if status >= 500)
    return Run(
        clerks,
        claims,
        seconds,
        results.latencies,
        doubles,
        errors,
        deadlocks_in(url),
        server_cpu,
        database_cpu,
    )


def bare_sql_run(databases: Databases, claims: int) -> Run:
    url = databases.new(1, claims)
    db = Database(url)
    window_id = db.run_read(
        lambda conn: conn.execute(text("SELECT id FROM windows WHERE code='X01'")).scalar()
    )
    actor = Actor(None, "bench")

    def claim(conn: Connection) -> object:
        return call_next(
            conn,
            hall_id=1,
            window_code="X01",
            window_id=window_id,
            now=datetime.now(UTC),
            actor=actor,
        )

    latencies = []
    started = time.perf_counter()
    for _ in range(claims):
        t0 = time.perf_counter()
        db.run_write(claim)
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    db.close()
    return Run(1, claims, seconds, latencies, double_claims_in_log(url))


def summarise(label: str, runs: list[Run]) -> tuple[str, float]:
    rate = statistics.median(r.rate for r in runs)
    lat = [x for r in runs for x in r.latencies]
    line = (
        f"{label:<26} {rate:>9.0f} {percentile(lat, 0.5) * 1000:>8.2f} "
        f"{percentile(lat, 0.95) * 1000:>8.2f} {percentile(lat, 0.99) * 1000:>8.2f} "
        f"{sum(r.doubles for r in runs):>7} {sum(r.errors for r in runs):>5} "
        f"{sum(r.deadlocks for r in runs):>5}"
    )
    if runs[0].server_cpu:
        line += f" {statistics.median(r.cpu_ms_per_claim for r in runs):>8.2f}"
        database = statistics.median(r.database_cpu / r.claims * 1000 for r in runs)
        line += f" {database:>8.2f}" if database else f" {'':>8}"

    return line, rate


def repeat(runs: int, make: Callable[[], Run]) -> list[Run]:
    return [make() for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-clerk", type=int, default=50)
    parser.add_argument("--levels", default="1,50,200")
    parser.add_argument(
        "--sessions", type=int, default=1, help="sessions per clerk (window) calling at once"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    databases = Databases(args.engine, Path(tempfile.mkdtemp(prefix="bench-claims-")))
    print(
        f"claims through the API: {args.engine}, {args.instances} `workbench serve` "
        f"process(es); {args.runs} runs each; median claims/s, latency over all runs"
    )
    print(
        f"{'':<26} {'claims/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'doubles':>7} "
        f"{'5xx':>5} {'dlock':>5} {'API CPU':>8} {'DB CPU':>8}"
        "  (CPU: ms per claim, all API processes / PostgreSQL)"
    )
    print(f"(the API processes' logs: {databases.workdir / 'servers.log'})")
    try:
        bare_line, bare_rate = summarise(
            "bare SQL, 1 writer", repeat(args.runs, lambda: bare_sql_run(databases, 2000))
        )
        print(bare_line)
        for clerks in levels:
            per_clerk = max(args.per_clerk, 2000 // clerks)
            runs = repeat(
                args.runs,
                lambda c=clerks, p=per_clerk: api_run(
                    databases, args.instances, c, p, args.sessions
                ),
            )
            label = f"API, {clerks} clerks"
            if args.sessions > 1:
                label = f"API, {clerks} clerks x {args.sessions} sess"
            line, rate = summarise(label, runs)
            print(f"{line}   ratio to bare SQL {rate / bare_rate:.2f}")
    finally:
        databases.drop_all()


if __name__ == "__main__":
    main()
