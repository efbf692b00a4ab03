"""Idempotency-Key and If-Match over real HTTP.

Idempotency (draft-ietf-httpapi-idempotency-key-header): a replay gets the stored response and
changes nothing; the same key with another request is 422; a key still in flight is 409; keys are
per user, survive a refusal (nothing is stored for a 4xx) and are forgotten after the retention.
If-Match: a stale version is 412 with the current state; weak ETags are accepted; garbage is 422.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from backend.db.engine import make_engine
from backend.runtime.settings import BackendSettings
from tests.api.test_auth import anon, copied_backend
from tests.conftest import Backend, key, seeded_settings
from tests.problems import problem

ITEM = "MZ-002"  # served by window W01 (clerk01), among others


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> BackendSettings:
    return seeded_settings(tmp_path_factory.mktemp("template"))


@pytest.fixture
def quick_backend(seeded_template: BackendSettings, tmp_path: Path) -> Iterator[Backend]:
    """A backend of its own (own server, clock and database), copied from a seeded one."""
    with copied_backend(seeded_template, tmp_path) as backend:
        yield backend


def db_path(backend: Backend) -> str:
    return backend.settings.database_url.removeprefix("sqlite:///")


def scalar(backend: Backend, sql: str, **params: Any) -> int:
    """Read the backend's database directly (any engine), as an auditor would."""
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def count_events(backend: Backend, type_: str, subject_id: Any = None) -> int:
    sql = "SELECT count(*) FROM events WHERE type = :type"
    if subject_id is None:
        return scalar(backend, sql, type=type_)
    return scalar(backend, sql + " AND subject_id = :subject", type=type_, subject=str(subject_id))


def count_tickets(backend: Backend) -> int:
    return scalar(backend, "SELECT count(*) FROM tickets")


async def issue(terminal: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await terminal.post("/api/v1/tickets", json={"service_item": ITEM}, headers=headers)


# --- replay -------------------------------------------------------------------------------------


async def test_replay_returns_the_stored_response_and_applies_once(
    quick_backend: Backend,
) -> None:
    terminal = await quick_backend.login("terminal01", verify=False)
    headers = key()
    first = await issue(terminal, headers)
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in first.headers
    again = await issue(terminal, headers)
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    ticket = first.json()
    assert count_tickets(quick_backend) == 1
    assert count_events(quick_backend, "ticket.issued") == 1
    assert count_events(quick_backend, "ticket.issued", ticket["id"]) == 1
    # a third time, from a new connection (a restarted client): still the same
    async with anon(quick_backend) as other:
        other.headers["Authorization"] = terminal.headers["Authorization"]
        third = await issue(other, headers)
    assert third.json() == ticket
    assert third.headers["idempotency-replayed"] == "true"
    assert count_tickets(quick_backend) == 1


async def test_replay_of_a_204(quick_backend: Backend) -> None:
    clerk = await quick_backend.login("clerk01", "W01", verify=False)
    headers = key()
    empty = await clerk.post("/api/v1/windows/W01/call-next", headers=headers)
    assert empty.status_code == 204
    terminal = await quick_backend.login("terminal01", verify=False)
    assert (await issue(terminal, key())).status_code == 201
    # the replay still says "nobody waited", it does not call the new ticket
    replay = await clerk.post("/api/v1/windows/W01/call-next", headers=headers)
    assert replay.status_code == 204
    assert replay.headers["idempotency-replayed"] == "true"
    assert count_events(quick_backend, "ticket.called") == 0
    fresh = await clerk.post("/api/v1/windows/W01/call-next", headers=key())
    assert fresh.status_code == 200


async def test_same_key_other_body_is_422(backend: Backend) -> None:
    terminal = await backend.login("terminal01", verify=False)
    headers = key()
    assert (await issue(terminal, headers)).status_code == 201
    other = await terminal.post("/api/v1/tickets", json={"service_item": "GA-001"}, headers=headers)
    problem(other, 422, "idempotency-key-reused")
    # the original is still replayable
    assert (await issue(terminal, headers)).headers["idempotency-replayed"] == "true"


async def test_same_key_other_path_is_422(quick_backend: Backend) -> None:
    supervisor = await quick_backend.login("super01", verify=False)
    headers = key()
    paused = await supervisor.post(
        "/api/v1/windows/W03/pause", json={"reason": "meeting"}, headers=headers
    )
    assert paused.status_code == 200, paused.text
    problem(
        await supervisor.post("/api/v1/windows/W03/resume", headers=headers),
        422,
        "idempotency-key-reused",
    )
    problem(
        await supervisor.post(
            "/api/v1/windows/W04/pause", json={"reason": "meeting"}, headers=headers
        ),
        422,
        "idempotency-key-reused",
    )
    windows = (await supervisor.get("/api/v1/windows")).json()["items"]
    state = {w["code"]: w["state"] for w in windows}
    assert state["W03"] == "paused" and state["W04"] == "open"


async def test_keys_are_per_user(quick_backend: Backend) -> None:
    terminal = await quick_backend.login("terminal01", verify=False)
    admin = await quick_backend.login("admin01", verify=False)
    headers = key()
    mine = await issue(terminal, headers)
    theirs = await issue(admin, headers)
    assert mine.status_code == theirs.status_code == 201
    assert "idempotency-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert count_tickets(quick_backend) == 2
    # and another user's other body under the same key is not a "reuse" either
    other = await admin.post("/api/v1/tickets", json={"service_item": "GA-001"}, headers=key())
    assert other.status_code == 201


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({}, "idempotency-key-missing"),
        ({"Idempotency-Key": ""}, "idempotency-key-missing"),
        ({"Idempotency-Key": "k" * 256}, "idempotency-key-invalid"),
    ],
    ids=["absent", "empty", "too-long"],
)
async def test_missing_or_unusable_key_is_400(
    backend: Backend, headers: dict[str, str], kind: str
) -> None:
    terminal = await backend.login("terminal01", verify=False)
    before = count_tickets(backend)
    response = await issue(terminal, headers)
    problem(response, 400, kind)
    assert "Idempotency-Key" in response.json()["detail"]
    assert count_tickets(backend) == before


async def test_a_key_of_255_characters_is_fine(backend: Backend) -> None:
    terminal = await backend.login("terminal01", verify=False)
    headers = {"Idempotency-Key": "k" * 254 + uuid.uuid4().hex[:1]}
    assert (await issue(terminal, headers)).status_code == 201
    assert (await issue(terminal, headers)).headers["idempotency-replayed"] == "true"


async def test_every_mutating_post_needs_a_key(backend: Backend) -> None:
    """Every POST of the API except login and logout (and the document upload, a PUT by
    content hash) refuses to run without a key."""
    from backend.server.contract import openapi_document

    clients = {
        role: await backend.login(name, window, verify=False)
        for role, name, window in [
            ("terminal", "terminal01", None),
            ("portal", "portal01", None),
            ("clerk", "clerk01", "W01"),
            ("supervisor", "super01", None),
        ]
    }
    # the notice preview is a POST only to carry a decision's body: it writes nothing; a
    # document is stored under the hash of its bytes, idempotent by nature (a key is ignored:
    # tests/api/test_documents.py)
    exempt = {
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/cases/{case}/notice-preview",
        "/api/v1/documents/{sha256}",
    }
    checked = 0
    for path, item in openapi_document()["paths"].items():
        for method in item:
            if method not in ("post", "put", "patch", "delete") or path in exempt:
                continue
            concrete = (
                path.replace("{window}", "W01")
                .replace("{ticket}", "1")
                .replace("{action}", "park")
                .replace("{case}", "1")
                .replace("{material}", "id_card")
                .replace("{merge}", "1")
                .replace("{notice}", "1")
                .replace("{alarm}", "1")
                .replace("{rating}", "1")
            )
            statuses = []
            for client in clients.values():
                response = await client.request(method.upper(), concrete, json={})
                statuses.append(response.status_code)
                if response.status_code == 400:
                    problem(response, 400, "idempotency-key-missing")
            # the callers that pass the role check are all refused for the missing key
            assert 400 in statuses, (method, path, statuses)
            assert all(s in (400, 403, 422) for s in statuses), (method, path, statuses)
            checked += 1
    assert checked >= 8


# --- concurrency --------------------------------------------------------------------------------


@contextmanager
def database_write_lock(backend: Backend) -> Iterator[threading.Event]:
    """Hold SQLite's write lock from outside the server (as a backup or a second writer would)
    until the yielded event is set, or the block ends."""
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db_path(backend), isolation_level=None, timeout=10)
        try:
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(timeout=8)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(timeout=10), "could not take the write lock"
    try:
        yield release
    finally:
        release.set()
        thread.join(timeout=10)


@pytest.fixture
def threaded_backend(seeded_template: BackendSettings, tmp_path: Path) -> Iterator[Backend]:
    """A backend running SQL on thread pools (as on PostgreSQL) instead of inline."""
    with copied_backend(seeded_template, tmp_path, db_executor="threads") as backend:
        yield backend


@pytest.mark.sqlite_only
async def test_concurrent_requests_with_one_key_apply_once(threaded_backend: Backend) -> None:
    """20 identical requests at once: one is applied, the other 19 are 409 in flight.

    Left to chance this is not deterministic: the first request may finish before the others
    arrive (then they are replays, and no 409 is seen). And with the default SQLite executor
    ("inline": SQL runs on the event loop) a write never yields to other requests, so on one
    SQLite instance a key is never seen in flight at all and the 19 are always replays (see the
    next test). The in-flight path matters where writes run on threads (PostgreSQL, or
    `db_executor="threads"`), so this test runs that way and makes the window deterministic:
    another SQLite connection holds the database's write lock while the 20 are sent; the first
    request to reach the database waits for the lock with its key marked in flight, the other
    19 are answered 409 at once; then the lock is released and the first one completes.
    """
    backend = threaded_backend
    terminal = await backend.login("terminal01", verify=False)
    headers = key()
    # open the pooled reader connections first: a new connection's setup pragmas would wait for
    # the lock too, and then even the token check of the 19 would wait
    for _ in range(3):
        await asyncio.gather(*(terminal.get("/api/v1/me") for _ in range(16)))
    with database_write_lock(backend) as release:
        tasks = [asyncio.ensure_future(issue(terminal, headers)) for _ in range(20)]
        # wait until 19 have been answered (the 20th holds the key and waits for the lock)
        for _ in range(300):
            if sum(task.done() for task in tasks) >= 19:
                break
            await asyncio.sleep(0.02)
        assert sum(task.done() for task in tasks) == 19
        release.set()
        responses = await asyncio.gather(*tasks)
    applied = [
        r for r in responses if r.status_code == 201 and "idempotency-replayed" not in r.headers
    ]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(applied) == 1, [r.status_code for r in responses]
    assert len(in_flight) == 19
    for response in in_flight:
        problem(response, 409, "idempotency-in-flight")
    assert count_tickets(backend) == 1
    assert count_events(backend, "ticket.issued") == 1
    # after it finished, the same request is a replay
    replay = await issue(terminal, headers)
    assert replay.headers["idempotency-replayed"] == "true"
    assert replay.json() == applied[0].json()


async def test_concurrent_requests_left_to_chance_still_apply_once(
    quick_backend: Backend,
) -> None:
    """The default executor, no lock: whatever the interleaving, one change, and every answer
    is either that change (first or replayed) or 409 in flight."""
    terminal = await quick_backend.login("terminal01", verify=False)
    headers = key()
    responses = await asyncio.gather(*(issue(terminal, headers) for _ in range(20)))
    ok = [r for r in responses if r.status_code == 201]
    assert len([r for r in ok if "idempotency-replayed" not in r.headers]) == 1
    assert len({r.content for r in ok}) == 1
    assert all(r.status_code in (201, 409) for r in responses)
    assert count_tickets(quick_backend) == 1


# --- refusals and retention ---------------------------------------------------------------------


async def test_a_refused_request_can_be_retried_with_the_same_key(quick_backend: Backend) -> None:
    terminal = await quick_backend.login("terminal01", verify=False)
    clerk = await quick_backend.login("clerk01", "W01", verify=False)
    ticket = (await issue(terminal, key())).json()
    start = key()
    refused = await clerk.post(f"/api/v1/tickets/{ticket['id']}/start", headers=start)
    body = problem(refused, 409, "invalid-transition")
    assert body["current"]["status"] == "waiting"
    called = await clerk.post(f"/api/v1/tickets/{ticket['id']}/call", headers=key())
    assert called.status_code == 200, called.text
    retried = await clerk.post(f"/api/v1/tickets/{ticket['id']}/start", headers=start)
    assert retried.status_code == 200, retried.text
    assert "idempotency-replayed" not in retried.headers
    assert retried.json()["status"] == "serving"
    # now it is stored: another replay is the same answer
    replay = await clerk.post(f"/api/v1/tickets/{ticket['id']}/start", headers=start)
    assert replay.headers["idempotency-replayed"] == "true"
    assert replay.json() == retried.json()


async def test_keys_are_kept_for_the_retention_and_then_forgotten(quick_backend: Backend) -> None:
    # (the token expires meanwhile, so each step logs in again; keys belong to the user)
    retention = quick_backend.settings.idempotency_retention_hours
    assert retention >= 24
    terminal = await quick_backend.login("terminal01", verify=False)
    headers = key()
    first = (await issue(terminal, headers)).json()
    quick_backend.clock.advance(timedelta(hours=retention - 1))
    terminal = await quick_backend.login("terminal01", verify=False)
    kept = await issue(terminal, headers)
    assert kept.headers["idempotency-replayed"] == "true"
    assert kept.json() == first
    quick_backend.clock.advance(timedelta(hours=2))
    terminal = await quick_backend.login("terminal01", verify=False)
    forgotten = await issue(terminal, headers)
    assert forgotten.status_code == 201
    assert "idempotency-replayed" not in forgotten.headers
    assert forgotten.json()["id"] != first["id"]
    assert count_tickets(quick_backend) == 2
    # the new use of the key is stored again
    assert (await issue(terminal, headers)).headers["idempotency-replayed"] == "true"


async def test_an_expired_key_may_carry_another_body(quick_backend: Backend) -> None:
    terminal = await quick_backend.login("terminal01", verify=False)
    headers = key()
    assert (await issue(terminal, headers)).status_code == 201
    quick_backend.clock.advance(timedelta(hours=49))
    terminal = await quick_backend.login("terminal01", verify=False)
    other = await terminal.post("/api/v1/tickets", json={"service_item": "GA-001"}, headers=headers)
    assert other.status_code == 201, other.text
    assert other.json()["service_item"] == "GA-001"


# --- If-Match -----------------------------------------------------------------------------------


async def called_ticket(backend: Backend) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    terminal = await backend.login("terminal01", verify=False)
    clerk = await backend.login("clerk01", "W01", verify=False)
    ticket = (await issue(terminal, key())).json()
    assert ticket["version"] == 1
    called = await clerk.post(f"/api/v1/tickets/{ticket['id']}/call", headers=key())
    assert called.status_code == 200, called.text
    assert called.headers["etag"] == f'"{called.json()["version"]}"'
    return clerk, called.json()


async def test_stale_if_match_is_412_with_the_current_state(quick_backend: Backend) -> None:
    clerk, ticket = await called_ticket(quick_backend)
    assert ticket["version"] == 2
    stale = await clerk.post(
        f"/api/v1/tickets/{ticket['id']}/start", headers={**key(), "If-Match": '"1"'}
    )
    body = problem(stale, 412, "precondition-failed")
    current = (await clerk.get(f"/api/v1/tickets/{ticket['id']}")).json()
    assert body["current"] == current
    assert body["current"]["status"] == "called" and body["current"]["version"] == 2
    # nothing changed
    assert current == ticket | {"waiting_ahead": current["waiting_ahead"]}
    # with the current version it goes through
    ok = await clerk.post(
        f"/api/v1/tickets/{ticket['id']}/start", headers={**key(), "If-Match": '"2"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 3
    assert ok.headers["etag"] == '"3"'


@pytest.mark.parametrize("if_match", ['W/"2"', "2", "*"])
async def test_accepted_if_match_forms(quick_backend: Backend, if_match: str) -> None:
    clerk, ticket = await called_ticket(quick_backend)
    response = await clerk.post(
        f"/api/v1/tickets/{ticket['id']}/start", headers={**key(), "If-Match": if_match}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("if_match", ['W/"1"', '"0"', '"999"'])
async def test_stale_weak_or_unknown_versions_are_412(
    quick_backend: Backend, if_match: str
) -> None:
    clerk, ticket = await called_ticket(quick_backend)
    response = await clerk.post(
        f"/api/v1/tickets/{ticket['id']}/start", headers={**key(), "If-Match": if_match}
    )
    problem(response, 412, "precondition-failed")


@pytest.mark.parametrize(
    "if_match", ["abc", '"abc"', '"-1"', '"1.5"', 'W/"x"', '"1", "2"', "W/", '""']
)
async def test_garbage_if_match_is_422(backend: Backend, if_match: str) -> None:
    clerk = await backend.login("super01", verify=False)
    response = await clerk.post("/api/v1/tickets/1/park", headers={**key(), "If-Match": if_match})
    body = problem(response, 422, "validation")
    assert body["errors"][0]["loc"] == ["header", "If-Match"]


@pytest.mark.parametrize("raw", [b'"\xb2"', b'"' + b"9" * 5000 + b'"'], ids=["superscript", "huge"])
async def test_exotic_if_match_is_422_not_500(backend: Backend, raw: bytes) -> None:
    supervisor = await backend.login("super01", verify=False)
    response = await supervisor.post(
        "/api/v1/tickets/1/park",
        headers=[
            (b"idempotency-key", uuid.uuid4().hex.encode()),
            (b"if-match", raw),
        ],
    )
    problem(response, 422, "validation")
