"""The authorization matrix over real HTTP: every operation of the OpenAPI document, every role,
and a second hall whose users must see and change nothing of the first.

`MATRIX` has one explicit row per operation. `test_every_operation_has_a_row` fails when the
app has an operation without a row (or a row names an operation that no longer exists), so a new
endpoint cannot ship without saying who may call it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from backend.db.engine import Database
from backend.hall.hall_file import HallFile, parse_hall_data
from backend.hall.seed import DEMO_PASSWORD, load_hall
from backend.runtime.passwords import Passwords
from backend.server.contract import openapi_document
from backend.server.embedded import EmbeddedServer
from tests.conftest import Backend, key, seeded_settings
from tests.problems import problem

ROLES = ("clerk", "supervisor", "admin", "terminal", "portal")
STAFF = frozenset({"clerk", "supervisor", "admin"})
EVERYONE = frozenset(ROLES)
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}

# Hall A is the demo hall; hall B a small second hall in the same database. Its service item and
# window reuse hall A's codes on purpose, so a missing hall filter cannot hide behind a 404.
HALL_A = "DL-ZS"
HALL_B = "TEST-B"
ITEM = "MZ-002"
USERS_A = {
    "clerk": ("clerk01", "W01"),
    "supervisor": ("super01", None),
    "admin": ("admin01", None),
    "terminal": ("terminal01", None),
    "portal": ("portal01", None),
}
USERS_B = {
    "clerk": ("b_clerk01", "W01"),
    "supervisor": ("b_super01", None),
    "admin": ("b_admin01", None),
    "terminal": ("b_terminal01", None),
    "portal": ("b_portal01", None),
}
APPLICANT_ID = "11010519491231002X"  # the published GB 11643 example


def hall_b() -> HallFile:
    users = [
        {"username": name, "display_name": f"B {role}", "role": role, "window": window}
        for role, (name, window) in USERS_B.items()
    ]
    return parse_hall_data(
        {
            "hall": {
                "code": HALL_B,
                "name": "测试二号大厅",
                "name_en": "Test hall B",
                "address": "测试路1号",
                "address_en": "1 Test Road",
                "phone": "0411-00000000",
            },
            "departments": [{"code": "MZ", "name": "乙民政", "name_en": "Civil affairs B"}],
            "service_items": [
                {
                    "code": ITEM,
                    "name": "乙大厅事项",
                    "name_en": "Hall B item",
                    "department": "MZ",
                    "ticket_prefix": "Q",
                    "promised_days": 1,
                    "statutory_days": 2,
                    "guideline": "乙大厅办事指南",
                    "guideline_en": "Hall B guideline",
                    "materials": [
                        {
                            "code": "id_card",
                            "name": "身份证",
                            "name_en": "ID card",
                            "mandatory": True,
                            "format": "original",
                        }
                    ],
                }
            ],
            "windows": [
                {
                    "code": "W01",
                    "number": 1,
                    "name": "乙1号窗口",
                    "name_en": "B window 1",
                    "service_items": [ITEM],
                },
                {
                    "code": "W02",
                    "number": 2,
                    "name": "乙2号窗口",
                    "name_en": "B window 2",
                    "service_items": [ITEM],
                },
            ],
            "users": [{k: v for k, v in u.items() if v is not None} for u in users],
        },
        "hall B",
    )


def two_hall_settings(directory: Path, **overrides: Any) -> Any:
    """The demo hall plus hall B in one database file."""
    settings = seeded_settings(directory, **overrides)
    db = Database(settings.database_url)
    try:
        passwords = Passwords(
            time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib
        )
        db.run_write(load_hall, hall_b(), passwords, DEMO_PASSWORD)
    finally:
        db.close()
    return settings


@dataclass
class World:
    """The running two-hall backend, a client per (hall, role), and hall A's resources."""

    backend: Backend
    clients: dict[tuple[str, str], httpx.AsyncClient]
    ticket_a: int
    ticket_numbers_a: set[str]
    case_a: int
    case_b: int
    rating_a: int
    alarm_a: int

    def client(self, hall: str, role: str) -> httpx.AsyncClient:
        return self.clients[(hall, role)]


@pytest.fixture(scope="module")
def two_halls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    settings = two_hall_settings(tmp_path_factory.mktemp("two-halls"))
    with EmbeddedServer(settings) as server:
        yield Backend(server)


def anon(backend: Backend) -> httpx.AsyncClient:
    """A client without a token (no TLS context: these are plain-HTTP loopback calls)."""
    return httpx.AsyncClient(base_url=backend.base_url, timeout=30.0, verify=False)


def intake(applicant_id: str = APPLICANT_ID) -> dict[str, Any]:
    return {
        "service_item": ITEM,
        "applicant": {"kind": "person", "id_number": applicant_id, "name": "测试申请人"},
        "materials": [
            {
                "material": "id_card",
                "file_name": "id.pdf",
                "size": 1234,
                "sha256": hashlib.sha256(b"id").hexdigest(),
            }
        ],
    }


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
async def world(two_halls: Backend) -> AsyncIterator[World]:
    """Hall A gets waiting tickets (one with an applicant), a finished and rated ticket, a case
    and a raised alarm; hall B gets a case of its own."""
    clients: dict[tuple[str, str], httpx.AsyncClient] = {}
    for hall, table in ((HALL_A, USERS_A), (HALL_B, USERS_B)):
        for role, (name, window) in table.items():
            clients[(hall, role)] = await two_halls.login(name, window, verify=False)
    terminal_a = clients[(HALL_A, "terminal")]
    clerk_a = clients[(HALL_A, "clerk")]
    tickets = []
    for extra in ({"applicant_id_number": APPLICANT_ID}, {}, {}):
        issue = {"service_item": ITEM, **extra}
        tickets.append(
            await created(await terminal_a.post("/api/v1/tickets", json=issue, headers=key()))
        )
    done = tickets[2]["id"]
    steps: list[tuple[str, Any]] = [
        ("call", None),
        ("start", None),
        ("finish", {"outcome": "completed"}),
    ]
    for action, body in steps:
        await created(
            await clerk_a.post(f"/api/v1/tickets/{done}/{action}", json=body, headers=key())
        )
    rating = await created(
        await terminal_a.post("/api/v1/ratings", json={"ticket": done, "score": 2}, headers=key())
    )
    alarm = await created(await clerk_a.post("/api/v1/windows/W01/alarm", headers=key()))
    cases = {}
    for hall in (HALL_A, HALL_B):
        response = await clients[(hall, "portal")].post(
            "/api/v1/cases", json=intake(), headers=key()
        )
        cases[hall] = (await created(response))["id"]
    yield World(
        backend=two_halls,
        clients=clients,
        ticket_a=tickets[0]["id"],
        ticket_numbers_a={t["number"] for t in tickets},
        case_a=cases[HALL_A],
        case_b=cases[HALL_B],
        rating_a=rating["id"],
        alarm_a=alarm["id"],
    )
    for client in clients.values():
        await client.aclose()


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    stream: bool = False
    if_match: str | None = None
    content: bytes | None = None  # a raw body (a document), sent instead of `json`


@dataclass(frozen=True)
class Row:
    """Who may call an operation, how to call it, and what another hall's user gets.

    roles: the roles allowed (None: public, no token needed).
    call: builds a request aimed at hall A's resources.
    other_hall: "refused" — another hall's user gets 403 or 404; "own" — the operation is
        scoped to the caller's hall, so it answers with hall B's own data (checked to hold
        nothing of hall A); "n/a" — public or not hall-bound.
    """

    roles: frozenset[str] | None
    call: Callable[[World], Call]
    other_hall: Literal["refused", "own", "n/a"]


# a one-pixel PNG
_DOCUMENT = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
    "0000000a49444154789c636000000002000148afa4710000000049454e44ae426082"
)
_DOCUMENT_SHA256 = hashlib.sha256(_DOCUMENT).hexdigest()


def _login_call(world: World) -> Call:
    return Call("POST", "/api/v1/auth/login", {"username": "super01", "password": DEMO_PASSWORD})


MATRIX: dict[tuple[str, str], Row] = {
    # auth
    ("POST", "/api/v1/auth/login"): Row(None, _login_call, "n/a"),
    ("POST", "/api/v1/auth/logout"): Row(
        EVERYONE, lambda w: Call("POST", "/api/v1/auth/logout"), "n/a"
    ),
    ("GET", "/api/v1/me"): Row(EVERYONE, lambda w: Call("GET", "/api/v1/me"), "own"),
    # catalogue
    ("GET", "/api/v1/service-items"): Row(
        frozenset(ROLES), lambda w: Call("GET", "/api/v1/service-items"), "own"
    ),
    ("GET", "/api/v1/windows"): Row(STAFF, lambda w: Call("GET", "/api/v1/windows"), "own"),
    ("POST", "/api/v1/windows/{window}/pause"): Row(
        STAFF,
        lambda w: Call("POST", "/api/v1/windows/W01/pause", {"reason": "matrix"}),
        "own",
    ),
    ("POST", "/api/v1/windows/{window}/resume"): Row(
        STAFF, lambda w: Call("POST", "/api/v1/windows/W01/resume"), "own"
    ),
    # the supervisor board (W02: closing W01 would stop the clerk rows' calls)
    ("GET", "/api/v1/board"): Row(
        frozenset({"supervisor", "admin"}), lambda w: Call("GET", "/api/v1/board"), "own"
    ),
    ("POST", "/api/v1/windows/{window}/close"): Row(
        frozenset({"supervisor", "admin"}),
        lambda w: Call("POST", "/api/v1/windows/W02/close", {"reason": "matrix"}),
        "own",
    ),
    ("POST", "/api/v1/windows/{window}/open"): Row(
        frozenset({"supervisor", "admin"}),
        lambda w: Call("POST", "/api/v1/windows/W02/open"),
        "own",
    ),
    ("POST", "/api/v1/cases/{case}/reassign"): Row(
        frozenset({"supervisor", "admin"}),
        lambda w: Call(
            "POST", f"/api/v1/cases/{w.case_a}/reassign", {"assignee": "clerk01"}, if_match='"999"'
        ),
        "refused",
    ),
    # tickets
    ("POST", "/api/v1/tickets"): Row(
        frozenset({"terminal", "admin"}),
        lambda w: Call("POST", "/api/v1/tickets", {"service_item": ITEM}),
        "own",
    ),
    ("GET", "/api/v1/tickets"): Row(STAFF, lambda w: Call("GET", "/api/v1/tickets"), "own"),
    ("POST", "/api/v1/windows/{window}/call-next"): Row(
        frozenset({"clerk"}), lambda w: Call("POST", "/api/v1/windows/W01/call-next"), "own"
    ),
    ("POST", "/api/v1/windows/{window}/walk-in"): Row(
        frozenset({"clerk"}),
        lambda w: Call("POST", "/api/v1/windows/W01/walk-in", {"service_item": ITEM}),
        "own",
    ),
    ("GET", "/api/v1/tickets/{ticket}"): Row(
        STAFF, lambda w: Call("GET", f"/api/v1/tickets/{w.ticket_a}"), "refused"
    ),
    # "finish" on a waiting ticket: the role and hall checks come first, then a 409.
    ("POST", "/api/v1/tickets/{ticket}/{action}"): Row(
        STAFF,
        lambda w: Call("POST", f"/api/v1/tickets/{w.ticket_a}/finish", {"outcome": "completed"}),
        "refused",
    ),
    # cases
    ("POST", "/api/v1/cases"): Row(
        frozenset({"portal", "admin"}), lambda w: Call("POST", "/api/v1/cases", intake()), "own"
    ),
    ("GET", "/api/v1/cases"): Row(STAFF, lambda w: Call("GET", "/api/v1/cases"), "own"),
    ("POST", "/api/v1/cases/claim-next"): Row(
        frozenset({"clerk"}), lambda w: Call("POST", "/api/v1/cases/claim-next"), "own"
    ),
    ("GET", "/api/v1/cases/{case}"): Row(
        STAFF, lambda w: Call("GET", f"/api/v1/cases/{w.case_a}"), "refused"
    ),
    ("PUT", "/api/v1/cases/{case}/materials/{material}"): Row(
        STAFF,
        lambda w: Call(
            "PUT",
            f"/api/v1/cases/{w.case_a}/materials/id_card",
            {"status": "missing"},
            if_match='"999"',
        ),
        "refused",
    ),
    ("POST", "/api/v1/cases/{case}/decisions"): Row(
        STAFF,
        lambda w: Call(
            "POST", f"/api/v1/cases/{w.case_a}/decisions", {"decision": "accept"}, if_match='"999"'
        ),
        "refused",
    ),
    ("POST", "/api/v1/cases/{case}/notice-preview"): Row(
        STAFF,
        lambda w: Call("POST", f"/api/v1/cases/{w.case_a}/notice-preview", {"decision": "accept"}),
        "refused",
    ),
    ("GET", "/api/v1/cases/{case}/notices/{notice}"): Row(
        STAFF, lambda w: Call("GET", f"/api/v1/cases/{w.case_a}/notices/1.txt"), "refused"
    ),
    ("POST", "/api/v1/cases/{case}/reveal"): Row(
        STAFF, lambda w: Call("POST", f"/api/v1/cases/{w.case_a}/reveal"), "refused"
    ),
    ("POST", "/api/v1/tickets/{ticket}/reveal"): Row(
        STAFF, lambda w: Call("POST", f"/api/v1/tickets/{w.ticket_a}/reveal"), "refused"
    ),
    # e-licences: the city's licence registry, not a hall's data
    ("GET", "/api/v1/e-licences"): Row(
        STAFF, lambda w: Call("GET", "/api/v1/e-licences", params={"holder": APPLICANT_ID}), "n/a"
    ),
    # ratings (好差评)
    ("POST", "/api/v1/ratings"): Row(
        frozenset({"terminal", "portal", "admin"}),
        lambda w: Call("POST", "/api/v1/ratings", {"ticket": w.ticket_a, "score": 5}),
        "refused",
    ),
    ("GET", "/api/v1/ratings"): Row(STAFF, lambda w: Call("GET", "/api/v1/ratings"), "own"),
    ("GET", "/api/v1/ratings/{rating}"): Row(
        STAFF, lambda w: Call("GET", f"/api/v1/ratings/{w.rating_a}"), "refused"
    ),
    ("POST", "/api/v1/ratings/{rating}/responses"): Row(
        STAFF,
        lambda w: Call("POST", f"/api/v1/ratings/{w.rating_a}/responses", {"text": "Sorry."}),
        "refused",
    ),
    # alarms
    ("POST", "/api/v1/windows/{window}/alarm"): Row(
        frozenset({"clerk"}), lambda w: Call("POST", "/api/v1/windows/W01/alarm"), "own"
    ),
    ("POST", "/api/v1/alarms/{alarm}/acknowledge"): Row(
        frozenset({"supervisor", "admin"}),
        lambda w: Call("POST", f"/api/v1/alarms/{w.alarm_a}/acknowledge"),
        "refused",
    ),
    ("GET", "/api/v1/alarms"): Row(STAFF, lambda w: Call("GET", "/api/v1/alarms"), "own"),
    # merges (issue 6): a waiting ticket gets 409, a case merged with itself 422, no merge 404
    ("POST", "/api/v1/tickets/{ticket}/case"): Row(
        frozenset({"clerk"}),
        lambda w: Call(
            "POST",
            f"/api/v1/tickets/{w.ticket_a}/case",
            {"materials": [{"material": "no_such_material"}]},
        ),
        "refused",
    ),
    ("GET", "/api/v1/tickets/{ticket}/merge-candidates"): Row(
        STAFF, lambda w: Call("GET", f"/api/v1/tickets/{w.ticket_a}/merge-candidates"), "refused"
    ),
    ("GET", "/api/v1/cases/{case}/merge-candidates"): Row(
        STAFF, lambda w: Call("GET", f"/api/v1/cases/{w.case_a}/merge-candidates"), "refused"
    ),
    ("GET", "/api/v1/cases/{case}/merge-preview"): Row(
        STAFF,
        lambda w: Call(
            "GET", f"/api/v1/cases/{w.case_a}/merge-preview", params={"other": w.case_a}
        ),
        "refused",
    ),
    ("POST", "/api/v1/cases/{case}/merge"): Row(
        STAFF,
        lambda w: Call(
            "POST", f"/api/v1/cases/{w.case_a}/merge", {"other_case": w.case_a}, if_match='"999"'
        ),
        "refused",
    ),
    ("GET", "/api/v1/cases/{case}/merges"): Row(
        STAFF, lambda w: Call("GET", f"/api/v1/cases/{w.case_a}/merges"), "refused"
    ),
    ("GET", "/api/v1/merges/{merge}"): Row(
        STAFF, lambda w: Call("GET", "/api/v1/merges/999999"), "refused"
    ),
    ("POST", "/api/v1/merges/{merge}/unmerge"): Row(
        frozenset({"supervisor", "admin"}),
        lambda w: Call("POST", "/api/v1/merges/999999/unmerge"),
        "refused",
    ),
    # events
    ("GET", "/api/v1/events"): Row(
        STAFF, lambda w: Call("GET", "/api/v1/events", params={"after": 0}, stream=True), "own"
    ),
    # the hall's call display (issue 7): the terminal account runs it; numbers and counts only
    ("GET", "/api/v1/display"): Row(
        frozenset({"terminal", "supervisor", "admin"}),
        lambda w: Call("GET", "/api/v1/display"),
        "own",
    ),
    ("GET", "/api/v1/display/events"): Row(
        frozenset({"terminal", "supervisor", "admin"}),
        lambda w: Call("GET", "/api/v1/display/events", params={"after": 0}, stream=True),
        "own",
    ),
    # documents (issue 20): stored by the hash of their bytes, so an upload belongs to no hall;
    # reading one back is for the staff of a hall with a case that refers to it (the world's
    # cases refer to a hash never uploaded: 404 for staff, 403 for the rest)
    ("PUT", "/api/v1/documents/{sha256}"): Row(
        EVERYONE,
        lambda w: Call("PUT", f"/api/v1/documents/{_DOCUMENT_SHA256}", content=_DOCUMENT),
        "n/a",
    ),
    ("GET", "/api/v1/documents/{sha256}"): Row(
        STAFF,
        lambda w: Call("GET", f"/api/v1/documents/{hashlib.sha256(b'id').hexdigest()}"),
        "refused",
    ),
    # operations: public on purpose (probes and Prometheus scrape without a token)
    ("GET", "/healthz"): Row(None, lambda w: Call("GET", "/healthz"), "n/a"),
    ("GET", "/readyz"): Row(None, lambda w: Call("GET", "/readyz"), "n/a"),
    ("GET", "/metrics"): Row(None, lambda w: Call("GET", "/metrics"), "n/a"),
}


@functools.cache
def api_operations() -> frozenset[tuple[str, str]]:
    document = openapi_document()
    return frozenset(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    )


OPERATIONS = sorted(api_operations() | set(MATRIX))
PROTECTED = [op for op in OPERATIONS if op in MATRIX and MATRIX[op].roles is not None]


def op_id(op: tuple[str, str]) -> str:
    return f"{op[0]} {op[1]}"


def row_of(op: tuple[str, str]) -> Row:
    assert op in MATRIX, f"{op_id(op)} has no row in MATRIX: say which roles may call it"
    assert op in api_operations(), f"{op_id(op)} is in MATRIX but not in the app"
    return MATRIX[op]


def test_every_operation_has_a_row() -> None:
    missing = sorted(api_operations() - set(MATRIX))
    stale = sorted(set(MATRIX) - api_operations())
    assert not missing, f"operations without a row in MATRIX: {[op_id(op) for op in missing]}"
    assert not stale, f"rows for operations that no longer exist: {[op_id(op) for op in stale]}"


async def send(client: httpx.AsyncClient, call: Call) -> httpx.Response:
    headers = key() if call.method in ("POST", "PUT", "PATCH", "DELETE") else {}
    if call.if_match is not None:
        headers["If-Match"] = call.if_match
    if call.stream:
        request = client.build_request(
            call.method, call.path, params=call.params, headers=headers, timeout=10
        )
        response = await client.send(request, stream=True)
        try:
            if response.status_code != 200:
                await response.aread()
        finally:
            await response.aclose()
        return response
    if call.content is not None:
        return await client.request(
            call.method, call.path, content=call.content, params=call.params, headers=headers
        )
    return await client.request(
        call.method, call.path, json=call.json, params=call.params, headers=headers
    )


@pytest.mark.parametrize("op", OPERATIONS, ids=op_id)
async def test_no_token(world: World, op: tuple[str, str]) -> None:
    row = row_of(op)
    async with anon(world.backend) as anonymous:
        response = await send(anonymous, row.call(world))
    if row.roles is None:
        assert response.status_code < 400, response.text
        return
    problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("op", PROTECTED, ids=op_id)
@pytest.mark.parametrize("role", ROLES)
async def test_role(world: World, op: tuple[str, str], role: str) -> None:
    row = row_of(op)
    assert row.roles is not None
    client = world.client(HALL_A, role)
    if op == ("POST", "/api/v1/auth/logout"):
        # do not end the shared session: log this role in afresh
        name, window = USERS_A[role]
        client = await world.backend.login(name, window, verify=False)
    try:
        response = await send(client, row.call(world))
    finally:
        if client is not world.client(HALL_A, role):
            await client.aclose()
    if role in row.roles:
        assert response.status_code not in (401, 403), (role, response.text)
        assert response.status_code < 500, response.text
    else:
        problem(response, 403, "forbidden")


def hall_a_markers(world: World) -> list[str]:
    return [HALL_A, "大连市中山区", *sorted(world.ticket_numbers_a)]


@pytest.mark.parametrize("op", PROTECTED, ids=op_id)
@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
async def test_other_hall(world: World, op: tuple[str, str], role: str) -> None:
    """A user of hall B never reads or changes anything of hall A."""
    row = row_of(op)
    assert row.roles is not None
    if role not in row.roles or row.other_hall == "n/a":
        return
    client = world.client(HALL_B, role)
    windows_before = await world.client(HALL_A, "supervisor").get("/api/v1/windows")
    response = await send(client, row.call(world))
    if row.other_hall == "refused" and "{" in op[1]:
        # an id of another hall does not exist for the caller: 404, never a 403 that says it
        # does (issue 25, item 6)
        problem(response, 404, "not-found")
    elif row.other_hall == "refused":
        assert response.status_code in (403, 404), response.text
        problem(response, (403, 404), "")
    else:
        assert response.status_code < 400 or response.status_code in (404, 409), response.text
    if not row.call(world).stream:
        for marker in hall_a_markers(world):
            assert marker not in response.text, (marker, response.text)
    # hall A's windows are untouched by whatever hall B did to its own "W01"
    windows_after = await world.client(HALL_A, "supervisor").get("/api/v1/windows")
    assert windows_after.json() == windows_before.json()


async def test_other_hall_lists_hold_only_their_own_data(world: World) -> None:
    b_super = world.client(HALL_B, "supervisor")
    tickets = (await b_super.get("/api/v1/tickets")).json()["items"]
    assert not {t["number"] for t in tickets} & world.ticket_numbers_a
    cases = (await b_super.get("/api/v1/cases")).json()["items"]
    assert world.case_b in {c["id"] for c in cases}
    assert world.case_a not in {c["id"] for c in cases}
    assert all(c["number"].startswith(HALL_B + "-") for c in cases), cases
    items = (await b_super.get("/api/v1/service-items")).json()["items"]
    assert [i["code"] for i in items] == [ITEM]
    assert items[0]["name"] == "乙大厅事项"
    windows = (await b_super.get("/api/v1/windows")).json()["items"]
    assert sorted(w["code"] for w in windows) == ["W01", "W02"]
    me = (await b_super.get("/api/v1/me")).json()
    assert me["hall"] == HALL_B


async def test_other_hall_events_are_not_streamed(world: World) -> None:
    """The event stream from the very start holds only the caller's hall's events."""
    seen: list[dict[str, Any]] = []
    client = world.client(HALL_B, "supervisor")
    async with client.stream("GET", "/api/v1/events", params={"after": 0}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")

        async def read() -> None:
            import json

            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line.removeprefix("data:").strip()))
                    if len(seen) >= 5:
                        return

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(read(), timeout=3)
    assert seen, "hall B's own events (its logins, its case) should be streamed"
    assert {event["hall"] for event in seen} == {HALL_B}


async def test_live_events_of_the_other_hall_are_not_streamed(world: World) -> None:
    """Followed live (from the instance's shared tail of events, not the table): tickets issued
    in both halls meanwhile, and each hall's supervisor sees only its own."""
    import json

    opened = {HALL_A: asyncio.Event(), HALL_B: asyncio.Event()}
    arrived = asyncio.Event()

    async def follow(hall: str, seen: list[dict[str, Any]]) -> None:
        client = world.client(hall, "supervisor")
        async with client.stream("GET", "/api/v1/events") as response:
            opened[hall].set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line.removeprefix("data:").strip()))
                    arrived.set()

    seen_a: list[dict[str, Any]] = []
    seen_b: list[dict[str, Any]] = []
    followers = [
        asyncio.create_task(follow(HALL_A, seen_a)),
        asyncio.create_task(follow(HALL_B, seen_b)),
    ]
    async with asyncio.timeout(5):
        await asyncio.gather(*(event.wait() for event in opened.values()))
    issued: dict[str, list[str]] = {HALL_A: [], HALL_B: []}
    for _ in range(3):
        for hall in (HALL_A, HALL_B):
            response = await world.client(hall, "terminal").post(
                "/api/v1/tickets", json={"service_item": ITEM}, headers=key()
            )
            assert response.status_code == 201, response.text
            issued[hall].append(str(response.json()["id"]))

    def own_tickets_arrived() -> bool:
        return all(
            {e.get("subject_id") for e in seen} >= set(issued[hall])
            for hall, seen in ((HALL_A, seen_a), (HALL_B, seen_b))
        )

    async with asyncio.timeout(10):
        while not own_tickets_arrived():
            arrived.clear()
            await arrived.wait()
    for task in followers:
        task.cancel()
    await asyncio.gather(*followers, return_exceptions=True)
    for hall, seen in ((HALL_A, seen_a), (HALL_B, seen_b)):
        assert {event["hall"] for event in seen} == {hall}
        tickets = [e["subject_id"] for e in seen if e["type"] == "ticket.issued"]
        assert tickets == issued[hall]


async def test_other_hall_clerk_cannot_claim_or_call_hall_a_work(world: World) -> None:
    """Hall A has waiting tickets and an unclaimed case; hall B's clerk gets none of them."""
    b_clerk = world.client(HALL_B, "clerk")
    called = await b_clerk.post("/api/v1/windows/W01/call-next", headers=key())
    assert called.status_code in (200, 204), called.text
    if called.status_code == 200:
        assert called.json()["number"] not in world.ticket_numbers_a
    claimed = await b_clerk.post("/api/v1/cases/claim-next", headers=key())
    assert claimed.status_code in (200, 204), claimed.text
    if claimed.status_code == 200:
        assert claimed.json()["id"] != world.case_a
    # hall A's case is still unassigned
    case = (await world.client(HALL_A, "supervisor").get(f"/api/v1/cases/{world.case_a}")).json()
    assert case["assignee"] in (None, USERS_A["clerk"][0])


async def test_hall_a_clerk_cannot_log_in_to_hall_b_windows_by_code(world: World) -> None:
    """Window codes are per hall: b_clerk01 at hall B's W01 does not hold hall A's W01."""
    me = (await world.client(HALL_A, "clerk").get("/api/v1/me")).json()
    assert me["window"] == "W01" and me["hall"] == HALL_A
    me_b = (await world.client(HALL_B, "clerk").get("/api/v1/me")).json()
    assert me_b["window"] == "W01" and me_b["hall"] == HALL_B


async def test_admin_is_bound_to_its_own_hall_lists(world: World) -> None:
    """An admin of hall B lists hall B's data (the admin role is not a window into hall A)."""
    b_admin = world.client(HALL_B, "admin")
    tickets = (await b_admin.get("/api/v1/tickets")).json()["items"]
    assert not {t["number"] for t in tickets} & world.ticket_numbers_a
