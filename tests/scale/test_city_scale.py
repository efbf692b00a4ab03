"""City scale: two API instances on one PostgreSQL database (always PostgreSQL, whatever
`--database` says: this is the deployment these tests are about)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from httpx_sse import aconnect_sse

from backend.db.engine import Database
from backend.db.migrate import head_revision
from backend.db.provision import create_database, drop_database
from backend.hall.hall_file import load_demo_hall
from backend.hall.seed import add_waiting_tickets, hall_with_extra_clerks, load_hall
from backend.runtime.passwords import Passwords
from backend.server.app import prepare_database
from tests.conftest import FAST_HASH, Backend, key, postgres_admin_url
from tests.servers import ServerProcess

CLERKS = 200
TICKETS = 5000


@pytest.fixture(scope="module")
def city_database() -> Iterator[str]:
    url = create_database(postgres_admin_url(), prefix="wbcity")
    db = Database(url)
    try:
        prepare_database(db)
        hall = hall_with_extra_clerks(load_demo_hall(), CLERKS, "MZ-001")
        passwords = Passwords(
            time_cost=FAST_HASH["password_time_cost"], memory_kib=FAST_HASH["password_memory_kib"]
        )
        db.run_write(load_hall, hall, passwords, None)
    finally:
        db.close()
    yield url
    drop_database(url, postgres_admin_url())


class Instance(Backend):
    """One API instance, a process of its own (so two instances really run in parallel)."""

    def __init__(self, server: ServerProcess) -> None:
        self.base_url = server.base_url


@pytest.fixture(scope="module")
def two_instances(city_database: str) -> Iterator[tuple[Backend, Backend]]:
    with ServerProcess(city_database) as a, ServerProcess(city_database) as b:
        yield Instance(a), Instance(b)


async def test_a_call_on_instance_a_streams_to_a_supervisor_on_instance_b(
    two_instances: tuple[Backend, Backend],
) -> None:
    a, b = two_instances
    terminal = await a.login("terminal01")
    clerk = await a.login("clerk07", "W07")  # GA-003: not the queue of the load test below
    supervisor = await b.login("super01")
    issued = (
        await terminal.post("/api/v1/tickets", json={"service_item": "GA-003"}, headers=key())
    ).json()

    opened = asyncio.Event()

    async def watch() -> dict[str, object]:
        async with aconnect_sse(supervisor, "GET", "/api/v1/events") as source:
            opened.set()
            async for sse in source.aiter_sse():
                event = json.loads(sse.data) if sse.data else {}
                if event.get("type") == "ticket.called":
                    return dict(event)
        raise AssertionError("stream ended")

    watcher = asyncio.create_task(watch())
    async with asyncio.timeout(5):
        await opened.wait()
    called = await clerk.post("/api/v1/windows/W07/call-next", headers=key())
    assert called.json()["id"] == issued["id"]
    async with asyncio.timeout(5):
        event = await watcher
    assert event["subject_id"] == str(issued["id"])
    # an idempotent retry landing on the other instance gets the stored answer
    retry_key = key()
    first = await terminal.post(
        "/api/v1/tickets", json={"service_item": "GA-003"}, headers=retry_key
    )
    other = httpx.AsyncClient(base_url=b.base_url, headers=dict(terminal.headers))
    replay = await other.post("/api/v1/tickets", json={"service_item": "GA-003"}, headers=retry_key)
    assert replay.json() == first.json()
    assert replay.headers["Idempotency-Replayed"] == "true"
    for client in (terminal, clerk, supervisor, other):
        await client.aclose()


async def test_a_logout_on_one_instance_stops_the_token_on_the_other_at_once(
    two_instances: tuple[Backend, Backend],
) -> None:
    """Instance B has just verified (and cached) the token; the logout on A reaches B by
    NOTIFY, so B refuses the token at once rather than after its principal cache's seconds."""
    a, b = two_instances
    on_a = await a.login("super01")
    on_b = httpx.AsyncClient(base_url=b.base_url, headers=dict(on_a.headers))
    assert (await on_b.get("/api/v1/me")).status_code == 200
    assert (await on_a.post("/api/v1/auth/logout")).status_code == 204
    await asyncio.sleep(0.3)  # the notification's trip
    refused = await on_b.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json()["type"].endswith("token-revoked")
    for client in (on_a, on_b):
        await client.aclose()


async def _call_until_empty(client: httpx.AsyncClient, window: str) -> list[int]:
    called = []
    while True:
        response = await client.post(f"/api/v1/windows/{window}/call-next", headers=key())
        if response.status_code == 204:
            return called
        assert response.status_code == 200, response.text
        called.append(response.json()["id"])


async def test_two_hundred_clerks_on_two_instances_call_each_ticket_exactly_once(
    two_instances: tuple[Backend, Backend], city_database: str
) -> None:
    db = Database(city_database)
    db.run_write(add_waiting_tickets, "DL-ZS", "MZ-001", TICKETS, datetime.now(UTC))
    db.close()
    instances = list(two_instances)
    clerks = await asyncio.gather(
        *(instances[n % 2].login(f"xclerk{n:02d}", f"X{n:02d}") for n in range(1, CLERKS + 1))
    )
    per_clerk = await asyncio.gather(
        *(_call_until_empty(c, f"X{n:02d}") for n, c in enumerate(clerks, start=1))
    )
    calls = Counter(ticket_id for called in per_clerk for ticket_id in called)
    assert len(calls) == TICKETS, "every ticket was called"
    assert max(calls.values()) == 1, "no ticket went to two windows"
    both = {n % 2 for n, called in enumerate(per_clerk, start=1) if called}
    assert both == {0, 1}, "both instances handed out tickets"
    for client in clerks:
        await client.aclose()


async def test_the_same_change_sent_to_both_instances_at_once_is_applied_once(
    two_instances: tuple[Backend, Backend], city_database: str
) -> None:
    """A retry that races its original on the other instance: both answers are the original's,
    and only one ticket is called for the two (the loser's batch is rolled back and replayed)."""
    changes = 40
    db = Database(city_database)
    # twice as many tickets: the loser of a race holds the ticket it claimed (SKIP LOCKED hides
    # it from the others) until its rollback
    db.run_write(add_waiting_tickets, "DL-ZS", "MZ-001", 2 * changes, datetime.now(UTC))
    db.close()
    a, b = two_instances
    on_a = await a.login("xclerk01", "X01")
    on_b = httpx.AsyncClient(base_url=b.base_url, headers=dict(on_a.headers))
    keys = [key() for _ in range(changes)]
    answers = await asyncio.gather(
        *(
            client.post("/api/v1/windows/X01/call-next", headers=headers)
            for headers in keys
            for client in (on_a, on_b)
        )
    )
    pairs = [answers[n : n + 2] for n in range(0, len(answers), 2)]
    for first, second in pairs:
        assert first.status_code == second.status_code == 200, (first.text, second.text)
        assert first.json() == second.json()
        replayed = [r.headers.get("Idempotency-Replayed") == "true" for r in (first, second)]
        assert sorted(replayed) == [False, True], "one applied, the other replayed"
    called = [first.json()["id"] for first, _ in pairs]
    assert len(set(called)) == changes, "each change called a ticket of its own"
    for client in (on_a, on_b):
        await client.aclose()


async def _call_until_empty_counting(
    client: httpx.AsyncClient, window: str, statuses: Counter[int]
) -> list[int]:
    """Call next until nobody waits; a 409 or 503 (the server's "try again") is counted and
    the call made again, as a clerk would."""
    called = []
    while True:
        response = await client.post(f"/api/v1/windows/{window}/call-next", headers=key())
        statuses[response.status_code] += 1
        if response.status_code == 204:
            return called
        if response.status_code == 200:
            called.append(response.json()["id"])
        elif response.status_code in (409, 503):
            await asyncio.sleep(0.05)
        else:
            return called


async def test_many_sessions_per_window_on_two_instances_never_deadlock_into_a_5xx(
    two_instances: tuple[Backend, Backend], city_database: str
) -> None:
    """Each clerk logged in several times (two desks, two terminals), the sessions of every
    window spread over both instances, all calling at once: the instances' group commits meet
    the same `windows` rows. They must never deadlock into a 500 (each batch takes its window
    rows in one global order; a deadlock the database still reports is retried, then 503)."""
    windows, sessions_per_window, tickets = 14, 8, 1400
    db = Database(city_database)
    db.run_write(add_waiting_tickets, "DL-ZS", "MZ-001", tickets, datetime.now(UTC))
    db.close()
    instances = list(two_instances)
    # the k-th session of window n on instance (n + k) mod 2
    windows_of_sessions = [n for _ in range(sessions_per_window) for n in range(1, windows + 1)]
    sessions = await asyncio.gather(
        *(
            instances[(n + k // windows) % 2].login(f"xclerk{n:02d}", f"X{n:02d}")
            for k, n in enumerate(windows_of_sessions)
        )
    )
    statuses: Counter[int] = Counter()
    per_session = await asyncio.gather(
        *(
            _call_until_empty_counting(client, f"X{n:02d}", statuses)
            for n, client in zip(windows_of_sessions, sessions, strict=True)
        )
    )
    errors = {status: count for status, count in statuses.items() if status >= 500}
    assert not errors, f"no call may answer 5xx: {dict(statuses)}"
    assert set(statuses) <= {200, 204, 409}, dict(statuses)
    calls = Counter(ticket_id for called in per_session for ticket_id in called)
    assert max(calls.values()) == 1, "no ticket went to two sessions"
    assert len(calls) >= tickets, "every ticket was called"
    for client in sessions:
        await client.aclose()


def test_instances_started_together_on_an_empty_database_all_come_up() -> None:
    """The first to take the migration lock creates the schema; the others wait for it and find
    the schema current (without the lock, one died creating the same tables)."""
    url = create_database(postgres_admin_url(), prefix="wbrace")
    servers = [ServerProcess(url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(ServerProcess.start, servers))
        for server in servers:
            ready = httpx.get(f"{server.base_url}/readyz")
            assert ready.json() == {"status": "ready", "schema": head_revision()}
    finally:
        for server in servers:
            server.stop()
        drop_database(url, postgres_admin_url())
