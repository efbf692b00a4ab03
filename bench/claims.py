"""Claims per second through the API (call next) with 1, 50 and 200 concurrent clerks, beside the
same claim as bare SQL on the same kind of database file; checks that no ticket is ever claimed
twice.

    python bench/claims.py [--runs 3] [--per-clerk 50] [--levels 1,50,200]

The backend runs as its own process (`workbench serve`), as in production; the load comes from
this process over keep-alive HTTP/1.1 connections, one per clerk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.app import prepare_database
from backend.db.engine import Database
from backend.db.schema import service_items, tickets
from backend.embedded import free_port
from backend.event_log import Actor
from backend.hall_file import load_demo_hall
from backend.passwords import Passwords
from backend.queue import call_next, local_day
from backend.seed import DEMO_PASSWORD, hall_with_extra_clerks, load_hall
from bench.loadgen import Results, percentile, post_until_empty

ITEM = "MZ-001"
FAST_HASH = {"WORKBENCH_PASSWORD_TIME_COST": "1", "WORKBENCH_PASSWORD_MEMORY_KIB": "8192"}


@dataclass
class Run:
    clerks: int
    claims: int
    seconds: float
    latencies: list[float]
    doubles: int

    @property
    def rate(self) -> float:
        return self.claims / self.seconds


def seed(path: Path, clerks: int) -> None:
    db = Database(f"sqlite:///{path}")
    prepare_database(db)
    hall = hall_with_extra_clerks(load_demo_hall(), clerks, ITEM)
    db.run_write(load_hall, hall, Passwords(time_cost=1, memory_kib=8192), None)
    db.close()


def add_waiting_tickets(path: Path, count: int) -> None:
    db = Database(f"sqlite:///{path}")
    now = datetime.now(UTC)
    day = local_day(now, "Asia/Shanghai")

    def insert(conn: object) -> None:
        from sqlalchemy import select

        item_id = conn.execute(
            select(service_items.c.id).where(service_items.c.code == ITEM)
        ).scalar()  # type: ignore[attr-defined]
        rows = [
            {
                "hall_id": 1,
                "day": day,
                "number": f"Z{n:05d}",
                "service_item_id": item_id,
                "priority_weight": 0,
                "status": "waiting",
                "walk_in": False,
                "issued_at": now + timedelta(microseconds=n),
                "queued_at": now + timedelta(microseconds=n),
            }
            for n in range(count)
        ]
        conn.execute(tickets.insert(), rows)  # type: ignore[attr-defined]

    db.run_write(insert)
    db.close()


def start_server(path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **FAST_HASH, "WORKBENCH_DATABASE_URL": f"sqlite:///{path}"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("backend did not start")


async def login_all(port: int, clerks: int) -> list[str]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

        async def one(n: int) -> str:
            body = {"username": f"xclerk{n:02d}", "password": DEMO_PASSWORD, "window": f"X{n:02d}"}
            response = await client.post("/api/v1/auth/login", json=body)
            response.raise_for_status()
            return str(response.json()["token"])

        return list(await asyncio.gather(*(one(n) for n in range(1, clerks + 1))))


def double_claims_in_log(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(
            db.execute(
                "SELECT count(*) FROM (SELECT subject_id FROM events WHERE type='ticket.called' "
                "GROUP BY subject_id HAVING count(*) > 1)"
            ).fetchone()[0]
        )


def api_run(workdir: Path, clerks: int, per_clerk: int) -> Run:
    path = workdir / f"api-{clerks}.db"
    seed(path, clerks)
    add_waiting_tickets(path, clerks * per_clerk)
    port = free_port()
    server = start_server(path, port)
    try:
        tokens = asyncio.run(login_all(port, clerks))
        results = Results()

        async def load() -> float:
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    post_until_empty(
                        "127.0.0.1", port, f"/api/v1/windows/X{n:02d}/call-next", token, results
                    )
                    for n, token in enumerate(tokens, start=1)
                )
            )
            return time.perf_counter() - started

        seconds = asyncio.run(load())
    finally:
        server.terminate()
        server.wait(timeout=30)
    ids = Counter(json.loads(body)["id"] for body in results.bodies)
    doubles = sum(1 for count in ids.values() if count > 1) + double_claims_in_log(path)
    claims = len(results.bodies)
    assert claims == clerks * per_clerk, f"{claims} claims for {clerks * per_clerk} tickets"
    return Run(clerks, claims, seconds, results.latencies, doubles)


def bare_sql_run(workdir: Path, claims: int) -> Run:
    path = workdir / "bare.db"
    seed(path, 1)
    add_waiting_tickets(path, claims)
    db = Database(f"sqlite:///{path}")
    window_id = db.run_read(
        lambda conn: conn.exec_driver_sql("SELECT id FROM windows WHERE code='X01'").scalar()
    )
    actor = Actor(None, "bench")
    latencies = []
    started = time.perf_counter()
    for _ in range(claims):
        t0 = time.perf_counter()
        db.run_write(
            lambda conn: call_next(
                conn,
                hall_id=1,
                window_code="X01",
                window_id=window_id,
                now=datetime.now(UTC),
                actor=actor,
            )
        )
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    db.close()
    return Run(1, claims, seconds, latencies, double_claims_in_log(path))


def summarise(label: str, runs: list[Run]) -> tuple[str, float]:
    rate = statistics.median(r.rate for r in runs)
    lat = [x for r in runs for x in r.latencies]
    line = (
        f"{label:<22} {rate:>9.0f} {percentile(lat, 0.5) * 1000:>8.2f} "
        f"{percentile(lat, 0.95) * 1000:>8.2f} {percentile(lat, 0.99) * 1000:>8.2f} "
        f"{sum(r.doubles for r in runs):>7}"
    )
    return line, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-clerk", type=int, default=50)
    parser.add_argument("--levels", default="1,50,200")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    print(
        f"claims through the API (SQLite, one `workbench serve` process); {args.runs} runs each, "
        f"median claims/s, latency over all runs"
    )
    print(f"{'':<22} {'claims/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'doubles':>7}")
    try:
        bare_line, bare_rate = summarise(
            "bare SQL, 1 writer", [bare_sql_run(workdir, 2000) for _ in range(args.runs)]
        )
        print(bare_line)
        for clerks in levels:
            per_clerk = max(args.per_clerk, 2000 // clerks)
            runs = [api_run(workdir, clerks, per_clerk) for _ in range(args.runs)]
            line, rate = summarise(f"API, {clerks} clerks", runs)
            print(f"{line}   ratio to bare SQL {rate / bare_rate:.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
