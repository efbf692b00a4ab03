"""The supervisor board over real HTTP: the snapshot, wait thresholds, idle time, cases near their
deadline, and the supervisor's actions (move a ticket, reactivate a no-show, close a window,
reassign a case)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.hall.hall_file import load_demo_hall
from backend.server.embedded import EmbeddedServer
from tests.api.cases_support import MIGRATION, decided, intake, provide, set_today
from tests.conftest import Backend, key, seeded_settings
from tests.problems import PROBLEMS

VALID = {"document": {"valid_until": "2040-01-01"}}
MIGRATION_REQUIRED = ("id_card", "household_register", "property_proof")


@pytest.fixture
async def hall(fresh_backend: Backend) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        "terminal": await fresh_backend.login("terminal01"),
        "super": await fresh_backend.login("super01"),
        "clerk01": await fresh_backend.login("clerk01", "W01"),
        "clerk02": await fresh_backend.login("clerk02", "W02"),
        "portal": await fresh_backend.login("portal01"),
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def issue(terminal: httpx.AsyncClient, item: str = "GA-001") -> dict[str, Any]:
    response = await terminal.post("/api/v1/tickets", json={"service_item": item}, headers=key())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def act(
    client: httpx.AsyncClient, ticket: int, action: str, body: Any = None, status: int = 200
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/tickets/{ticket}/{action}", json=body, headers=key())
    assert response.status_code == status, response.text
    return dict(response.json())


async def board(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/board")
    assert response.status_code == 200, response.text
    return dict(response.json())


def by(items: list[dict[str, Any]], field: str, value: Any) -> dict[str, Any]:
    return next(i for i in items if i[field] == value)


async def first_event_after(client: httpx.AsyncClient, seq: int) -> dict[str, Any]:
    async with client.stream("GET", "/api/v1/events", params={"after": seq}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                return dict(json.loads(line.removeprefix("data:")))
    raise AssertionError("the stream ended")


async def test_the_snapshot_shows_windows_queues_alarms_ratings_and_trends(
    hall: dict[str, httpx.AsyncClient],
) -> None:
    terminal, sup, clerk = hall["terminal"], hall["super"], hall["clerk01"]
    first, second = await issue(terminal), await issue(terminal)
    await act(clerk, first["id"], "call")
    await act(clerk, first["id"], "start")
    serving = await board(sup)
    w01 = by(serving["windows"], "code", "W01")
    assert (w01["activity"], w01["ticket"], w01["clerk"]) == ("serving", first["number"], "clerk01")
    await act(clerk, first["id"], "finish", {"outcome": "completed"})
    paused = await hall["clerk02"].post(
        "/api/v1/windows/W02/pause", json={"reason": "meeting"}, headers=key()
    )
    assert paused.status_code == 200
    alarm = await clerk.post("/api/v1/windows/W01/alarm", json={"note": "help"}, headers=key())
    rating = await terminal.post(
        "/api/v1/ratings", json={"ticket": first["id"], "score": 2}, headers=key()
    )
    assert rating.status_code == 201, rating.text

    snap = await board(sup)
    w01, w02 = by(snap["windows"], "code", "W01"), by(snap["windows"], "code", "W02")
    assert (w01["activity"], w01["ticket"], w01["served_today"]) == ("idle", None, 1)
    assert w01["idle_since"] is not None
    assert (w02["activity"], w02["pause_reason"]) == ("paused", "meeting")
    assert by(snap["windows"], "code", "W09")["activity"] == "closed"  # nobody logged in
    queue = by(snap["queues"], "service_item", "GA-001")
    assert (queue["waiting"], queue["served_today"], queue["no_shows_today"]) == (1, 1, 0)
    assert (queue["warning_minutes"], queue["critical_minutes"], queue["level"]) == (15, 30, "ok")
    assert [t["id"] for t in snap["tickets"] if t["status"] == "waiting"] == [second["id"]]
    assert [a["id"] for a in snap["alarms"]] == [alarm.json()["id"]]
    assert snap["ratings"]["count"] == 1 and snap["ratings"]["satisfaction_rate"] == 0.0
    assert [(r["score"], r["subject"]) for r in snap["ratings"]["bad"]] == [(2, first["number"])]
    assert sum(snap["trend"]["tickets"]) == 2 and sum(snap["trend"]["called"]) == 1

    # the snapshot holds every event up to `seq`: the stream after it starts with the next change
    await issue(terminal)
    after = await first_event_after(sup, snap["seq"])
    assert (after["seq"], after["type"]) == (snap["seq"] + 1, "ticket.issued")


async def test_only_supervisors_and_admins_see_the_board(
    fresh_backend: Backend, hall: dict[str, httpx.AsyncClient]
) -> None:
    for client in (hall["clerk01"], hall["terminal"], hall["portal"]):
        response = await client.get("/api/v1/board")
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == PROBLEMS + "forbidden"
    admin = await fresh_backend.login("admin01")
    assert (await admin.get("/api/v1/board")).status_code == 200
    await admin.aclose()


async def test_long_waits_reach_warning_then_critical(
    fresh_backend: Backend, hall: dict[str, httpx.AsyncClient]
) -> None:
    await issue(hall["terminal"], "GA-001")
    fresh_backend.clock.advance(timedelta(minutes=16))
    queue = by((await board(hall["super"]))["queues"], "service_item", "GA-001")
    assert queue["level"] == "warning" and queue["longest_wait_seconds"] >= 16 * 60
    fresh_backend.clock.advance(timedelta(minutes=15))
    queue = by((await board(hall["super"]))["queues"], "service_item", "GA-001")
    assert queue["level"] == "critical"


async def test_idle_time_counts_from_login_until_the_first_call(
    fresh_backend: Backend, hall: dict[str, httpx.AsyncClient]
) -> None:
    clerk = await fresh_backend.login("clerk05", "W05")
    fresh_backend.clock.advance(timedelta(minutes=5))
    ticket = await issue(hall["terminal"], "MZ-002")
    called = await clerk.post("/api/v1/windows/W05/call-next", headers=key())
    assert called.json()["id"] == ticket["id"]
    w05 = by((await board(hall["super"]))["windows"], "code", "W05")
    assert w05["activity"] == "calling" and w05["idle_since"] is None
    assert 5 * 60 <= w05["idle_seconds"] < 5 * 60 + 30
    await clerk.aclose()


def _hall_with_item_thresholds() -> Any:
    demo = load_demo_hall()
    items = [
        item.model_copy(update={"wait_warning_minutes": 2, "wait_critical_minutes": 4})
        if item.code == "GA-001"
        else item
        for item in demo.service_items
    ]
    return demo.model_copy(update={"service_items": items})


async def test_a_service_item_can_have_its_own_thresholds(tmp_path: Path) -> None:
    settings = seeded_settings(tmp_path, _hall_with_item_thresholds())
    with EmbeddedServer(settings) as server:
        backend = Backend(server)
        sup = await backend.login("super01")
        queues = (await board(sup))["queues"]
        own, other = by(queues, "service_item", "GA-001"), by(queues, "service_item", "GA-002")
        assert (own["warning_minutes"], own["critical_minutes"]) == (2, 4)
        assert (other["warning_minutes"], other["critical_minutes"]) == (15, 30)
        await sup.aclose()


async def test_a_supervisor_moves_waiting_tickets_and_reactivates_a_no_show(
    hall: dict[str, httpx.AsyncClient],
) -> None:
    terminal, sup = hall["terminal"], hall["super"]
    ticket = await issue(terminal, "GA-001")
    # a clerk cannot move a waiting ticket; a supervisor can, to another window
    to_w02 = {"window": "W02", "reason": "W01 is busy"}
    await act(hall["clerk01"], ticket["id"], "transfer", to_w02, status=403)
    moved = await act(sup, ticket["id"], "transfer", to_w02)
    assert (moved["status"], moved["target_window"]) == ("waiting", "W02")
    called = await hall["clerk02"].post("/api/v1/windows/W02/call-next", headers=key())
    assert called.json()["id"] == ticket["id"]
    # or to another service item
    other = await issue(terminal, "GA-001")
    to_item = {"service_item": "GA-002", "reason": "wrong queue"}
    moved = await act(sup, other["id"], "transfer", to_item)
    assert moved["service_item"] == "GA-002"
    assert by((await board(sup))["queues"], "service_item", "GA-002")["waiting"] == 1
    # a no-show comes back to the queue
    await act(hall["clerk02"], ticket["id"], "no-show")
    assert by((await board(sup))["queues"], "service_item", "GA-001")["no_shows_today"] == 1
    await act(hall["clerk02"], ticket["id"], "reactivate", status=403)
    back = await act(sup, ticket["id"], "reactivate")
    assert back["status"] == "waiting"


async def test_a_supervisor_closes_and_reopens_a_window(
    hall: dict[str, httpx.AsyncClient],
) -> None:
    sup, clerk = hall["super"], hall["clerk01"]
    refused = await clerk.post("/api/v1/windows/W01/close", headers=key())
    assert refused.status_code == 403
    headers = key()
    closed = await sup.post(
        "/api/v1/windows/W01/close", json={"reason": "end of day"}, headers=headers
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["pause_reason"]) == ("closed", "end of day")
    replay = await sup.post(
        "/api/v1/windows/W01/close", json={"reason": "end of day"}, headers=headers
    )
    assert replay.headers.get("idempotency-replayed") == "true"
    again = await sup.post("/api/v1/windows/W01/close", headers=key())
    assert again.status_code == 409
    await issue(hall["terminal"], "MZ-002")
    call = await clerk.post("/api/v1/windows/W01/call-next", headers=key())
    assert call.status_code == 409
    assert by((await board(sup))["windows"], "code", "W01")["activity"] == "closed"
    # a clerk cannot resume a closed window; the supervisor opens it
    assert (await clerk.post("/api/v1/windows/W01/resume", headers=key())).status_code == 409
    reopened = await sup.post("/api/v1/windows/W01/open", headers=key())
    assert reopened.json()["state"] == "open"
    assert (await clerk.post("/api/v1/windows/W01/call-next", headers=key())).status_code == 200
    missing = await sup.post("/api/v1/windows/W99/close", headers=key())
    assert missing.status_code == 404


async def test_a_ticket_sent_to_a_window_nobody_is_at_shows_as_stranded(
    fresh_backend: Backend, hall: dict[str, httpx.AsyncClient]
) -> None:
    sup = hall["super"]
    ticket = await issue(hall["terminal"], "GA-001")
    moved = await act(sup, ticket["id"], "transfer", {"window": "W03", "reason": "W03 knows it"})
    assert moved["target_window"] == "W03"  # open, but nobody is logged in to it
    stranded = (await board(sup))["stranded"]
    assert [(s["ticket_id"], s["number"], s["window"]) for s in stranded] == [
        (ticket["id"], ticket["number"], "W03")
    ]
    clerk03 = await fresh_backend.login("clerk03", "W03")
    assert (await board(sup))["stranded"] == []
    await clerk03.post("/api/v1/auth/logout")
    assert [s["ticket_id"] for s in (await board(sup))["stranded"]] == [ticket["id"]]
    await clerk03.aclose()


async def test_a_supervisor_reassigns_a_case(hall: dict[str, httpx.AsyncClient]) -> None:
    sup = hall["super"]
    case = await intake(hall["portal"], item=MIGRATION)
    path = f"/api/v1/cases/{case['id']}/reassign"
    body = {"assignee": "clerk02", "note": "W01 is overloaded"}
    missing = await sup.post(path, json=body, headers=key())
    assert missing.status_code == 428
    stale = await sup.post(path, json=body, headers={**key(), "If-Match": '"99"'})
    assert stale.status_code == 412 and stale.json()["current"]["id"] == case["id"]
    nobody = await sup.post(
        path, json={"assignee": "super01"}, headers={**key(), "If-Match": f'"{case["version"]}"'}
    )
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["loc"] == ["body", "assignee"]
    refused = await hall["clerk01"].post(
        path, json=body, headers={**key(), "If-Match": f'"{case["version"]}"'}
    )
    assert refused.status_code == 403
    done = await sup.post(path, json=body, headers={**key(), "If-Match": f'"{case["version"]}"'})
    assert done.status_code == 200, done.text
    assert (done.json()["assignee"], done.json()["status"]) == ("clerk02", "under_review")
    assert done.headers["etag"] == f'"{done.json()["version"]}"'
    mine = await hall["clerk02"].get("/api/v1/cases", params={"assignee": "clerk02"})
    assert case["id"] in [c["id"] for c in mine.json()["items"]]


async def test_cases_due_soon_and_overdue_are_on_the_board(fresh_backend: Backend) -> None:
    set_today(fresh_backend, date(2026, 11, 9))  # a Monday
    portal = await fresh_backend.login("portal01")
    clerk = await fresh_backend.login("clerk05", "W05")
    case = await intake(portal, item=MIGRATION)
    await provide(clerk, case, *MIGRATION_REQUIRED, **VALID)
    accepted = (await decided(clerk, case, "accept"))["case"]
    deadline = date.fromisoformat(accepted["time_limit"]["deadline"])
    sup = await fresh_backend.login("super01")
    assert case["id"] not in [c["id"] for c in (await board(sup))["cases"]]

    set_today(fresh_backend, deadline)
    sup = await fresh_backend.login("super01")
    row = by((await board(sup))["cases"], "id", case["id"])
    assert (row["clock"], row["assignee"], row["department"]) == ("due_soon", "clerk05", "GA")

    set_today(fresh_backend, deadline + timedelta(days=1))
    sup = await fresh_backend.login("super01")
    assert by((await board(sup))["cases"], "id", case["id"])["clock"] == "overdue"
    for client in (portal, clerk, sup):
        await client.aclose()
