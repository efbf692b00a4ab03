"""The hall queue over real HTTP: issuing, calling order, every transition and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Backend, key
from tests.problems import problem_kind

MARRIAGE = "MZ-001"  # served by window W04 only (clerk04)
PASSPORT = "GA-003"  # served by window W07 only (clerk07)


async def issue(terminal: httpx.AsyncClient, item: str = MARRIAGE, **extra: Any) -> dict[str, Any]:
    response = await terminal.post(
        "/api/v1/tickets", json={"service_item": item, **extra}, headers=key()
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def call_next(clerk: httpx.AsyncClient, window: str) -> httpx.Response:
    return await clerk.post(f"/api/v1/windows/{window}/call-next", headers=key())


async def act(
    client: httpx.AsyncClient, ticket: dict[str, Any], action: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/tickets/{ticket['id']}/{action}", json=body or None, headers=key()
    )


@pytest.fixture
async def clerk04(fresh_backend: Backend) -> Any:
    client = await fresh_backend.login("clerk04", "W04")
    yield client
    await client.aclose()


@pytest.fixture
async def supervisor(fresh_backend: Backend) -> Any:
    client = await fresh_backend.login("super01")
    yield client
    await client.aclose()


async def test_tickets_are_numbered_per_service_with_their_prefix(
    terminal: httpx.AsyncClient,
) -> None:
    first = await issue(terminal, MARRIAGE)
    second = await issue(terminal, MARRIAGE)
    other = await issue(terminal, PASSPORT)
    assert (first["number"], second["number"]) == ("HY001", "HY002")
    assert other["number"] == "GA001"
    assert (first["waiting_ahead"], second["waiting_ahead"]) == (0, 1)
    assert first["status"] == "waiting"


async def test_numbers_restart_each_day_and_old_days_stay_readable(
    fresh_backend: Backend, terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    yesterday = await issue(terminal)
    fresh_backend.clock.advance(timedelta(days=1))  # tokens expire overnight: log in again
    terminal = await fresh_backend.login("terminal01")
    clerk04 = await fresh_backend.login("clerk04", "W04")
    today = await issue(terminal)
    assert today["number"] == "HY001"
    called = await call_next(clerk04, "W04")
    assert called.json()["id"] == today["id"]  # yesterday's leftover is never called
    assert (await call_next(clerk04, "W04")).status_code == 204
    old = await clerk04.get("/api/v1/tickets", params={"day": yesterday["day"]})
    assert [t["number"] for t in old.json()["items"]] == ["HY001"]
    assert old.json()["items"][0]["status"] == "waiting"


async def test_call_next_gives_the_oldest_and_204_when_nobody_waits(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    assert (await call_next(clerk04, "W04")).status_code == 204
    first, second = await issue(terminal), await issue(terminal)
    await issue(terminal, PASSPORT)  # another window's queue
    got = [(await call_next(clerk04, "W04")).json()["id"] for _ in range(2)]
    assert got == [first["id"], second["id"]]
    assert (await call_next(clerk04, "W04")).status_code == 204


async def test_priority_goes_first_then_interleaves_with_normal_tickets(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    normals = [await issue(terminal) for _ in range(5)]
    elderly = await issue(terminal, priority_class="elderly")
    disabled = await issue(terminal, priority_class="disabled")
    order = [(await call_next(clerk04, "W04")).json()["number"] for _ in range(7)]
    # Highest weight first; then the hall's 3 normal : 1 priority interleave.
    expected = [disabled, normals[0], normals[1], normals[2], elderly, normals[3], normals[4]]
    assert order == [t["number"] for t in expected]


async def test_due_appointments_go_before_everyone(
    fresh_backend: Backend, terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    normal = await issue(terminal)
    priority = await issue(terminal, priority_class="veteran")
    later = await issue(terminal, appointment_at=(now + timedelta(hours=2)).isoformat())
    due = await issue(terminal, appointment_at=(now + timedelta(minutes=5)).isoformat())
    order = [(await call_next(clerk04, "W04")).json()["id"] for _ in range(4)]
    # the early appointment holder waits in arrival order like a normal ticket
    assert order == [due["id"], priority["id"], normal["id"], later["id"]]


async def test_full_service_path_and_finish_needs_an_outcome(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    ticket = await issue(terminal)
    called = (await call_next(clerk04, "W04")).json()
    assert (called["status"], called["window"]) == ("called", "W04")
    started = await act(clerk04, ticket, "start")
    assert started.json()["status"] == "serving"
    missing = await act(clerk04, ticket, "finish")
    assert missing.status_code == 422
    assert "outcome" in missing.json()["detail"]
    done = await act(clerk04, ticket, "finish", outcome="completed")
    assert (done.json()["status"], done.json()["outcome"]) == ("done", "completed")
    again = await act(clerk04, ticket, "start")
    assert again.status_code == 409
    assert problem_kind(again) == "invalid-transition"
    assert again.json()["current"]["status"] == "done"
    assert again.json()["allowed"] == []


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("recall", {}),
        ("no-show", {}),
        ("park", {}),
        ("resume", {}),
        ("start", {}),
        ("finish", {"outcome": "completed"}),
    ],
)
async def test_actions_on_a_waiting_ticket_are_refused_with_409(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient, action: str, body: dict[str, Any]
) -> None:
    ticket = await issue(terminal)
    response = await act(clerk04, ticket, action, **body)
    assert response.status_code == 409
    assert problem_kind(response) == "invalid-transition"
    assert "waiting" in response.json()["detail"]
    assert "call" in response.json()["allowed"]


async def test_recall_is_refused_within_the_minimum_gap(
    fresh_backend: Backend, terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    ticket = await issue(terminal)
    await call_next(clerk04, "W04")
    early = await act(clerk04, ticket, "recall")
    assert early.status_code == 409
    assert problem_kind(early) == "recall-too-soon"
    assert 1 <= int(early.headers["Retry-After"]) <= 30
    assert early.json()["retry_after"] == int(early.headers["Retry-After"])
    fresh_backend.clock.advance(timedelta(seconds=31))
    recalled = await act(clerk04, ticket, "recall")
    assert recalled.status_code == 200
    assert recalled.json()["recall_count"] == 1
    assert (await act(clerk04, ticket, "recall")).status_code == 409


async def test_no_show_and_only_a_supervisor_reactivates(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient, supervisor: httpx.AsyncClient
) -> None:
    ticket = await issue(terminal)
    await call_next(clerk04, "W04")
    assert (await act(clerk04, ticket, "no-show")).json()["status"] == "no_show"
    refused = await act(clerk04, ticket, "reactivate")
    assert refused.status_code == 403
    back = await act(supervisor, ticket, "reactivate")
    assert back.json()["status"] == "waiting"
    assert (await call_next(clerk04, "W04")).json()["id"] == ticket["id"]


async def test_park_and_resume(terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient) -> None:
    ticket = await issue(terminal)
    await call_next(clerk04, "W04")
    await act(clerk04, ticket, "start")
    assert (await act(clerk04, ticket, "park")).json()["status"] == "parked"
    assert (await act(clerk04, ticket, "resume")).json()["status"] == "serving"


async def test_transfer_to_a_window_reaches_only_that_window(
    fresh_backend: Backend, terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    clerk07 = await fresh_backend.login("clerk07", "W07")
    clerk01 = await fresh_backend.login("clerk01", "W01")
    ticket = await issue(terminal)
    await call_next(clerk04, "W04")
    moved = await act(clerk04, ticket, "transfer", window="W07", reason="needs exit-entry desk")
    assert (moved.json()["status"], moved.json()["target_window"]) == ("waiting", "W07")
    assert moved.json()["transfer_count"] == 1
    assert (await call_next(clerk01, "W01")).status_code == 204
    assert (await call_next(clerk04, "W04")).status_code == 204
    assert (await call_next(clerk07, "W07")).json()["id"] == ticket["id"]
    await clerk07.aclose()
    await clerk01.aclose()


async def test_transfer_to_another_service_item_joins_that_queue_in_place(
    fresh_backend: Backend, terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    clerk07 = await fresh_backend.login("clerk07", "W07")
    ticket = await issue(terminal)
    later = await issue(terminal, PASSPORT)
    await call_next(clerk04, "W04")
    moved = await act(clerk04, ticket, "transfer", service_item=PASSPORT, reason="passport")
    assert moved.json()["service_item"] == PASSPORT
    # it keeps its original place: issued before the passport ticket
    assert (await call_next(clerk07, "W07")).json()["id"] == ticket["id"]
    assert (await call_next(clerk07, "W07")).json()["id"] == later["id"]
    bad = await act(clerk07, later, "transfer", reason="nowhere")
    assert bad.status_code == 422
    await clerk07.aclose()


async def test_call_a_chosen_ticket_only_from_a_window_that_serves_it(
    fresh_backend: Backend, terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    first, second = await issue(terminal), await issue(terminal)
    chosen = await act(clerk04, second, "call")
    assert (chosen.json()["status"], chosen.json()["window"]) == ("called", "W04")
    clerk07 = await fresh_backend.login("clerk07", "W07")
    refused = await act(clerk07, first, "call")
    assert refused.status_code == 403
    taken = await act(clerk07, second, "start")
    assert taken.status_code == 403
    await clerk07.aclose()


async def test_walk_in_is_served_at_once(clerk04: httpx.AsyncClient) -> None:
    response = await clerk04.post(
        "/api/v1/windows/W04/walk-in", json={"service_item": MARRIAGE}, headers=key()
    )
    assert response.status_code == 201
    ticket = response.json()
    assert (ticket["status"], ticket["window"], ticket["walk_in"]) == ("serving", "W04", True)
    wrong = await clerk04.post(
        "/api/v1/windows/W05/walk-in", json={"service_item": MARRIAGE}, headers=key()
    )
    assert wrong.status_code == 403


async def test_a_paused_window_cannot_call_until_resumed(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient, supervisor: httpx.AsyncClient
) -> None:
    await issue(terminal)
    paused = await clerk04.post(
        "/api/v1/windows/W04/pause", json={"reason": "break"}, headers=key()
    )
    assert (paused.json()["state"], paused.json()["pause_reason"]) == ("paused", "break")
    windows = (await supervisor.get("/api/v1/windows")).json()["items"]
    assert next(w for w in windows if w["code"] == "W04")["pause_reason"] == "break"
    refused = await call_next(clerk04, "W04")
    assert refused.status_code == 409
    assert "paused" in refused.json()["detail"]
    assert problem_kind(refused) == "window-not-open"
    assert (refused.json()["window"], refused.json()["state"]) == ("W04", "paused")
    await clerk04.post("/api/v1/windows/W04/resume", headers=key())
    assert (await call_next(clerk04, "W04")).status_code == 200


async def test_stale_if_match_gets_412_with_the_current_ticket(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    ticket = await issue(terminal)
    called = await call_next(clerk04, "W04")
    assert called.headers["ETag"] == f'"{called.json()["version"]}"'
    stale = await clerk04.post(
        f"/api/v1/tickets/{ticket['id']}/start",
        headers={**key(), "If-Match": f'"{ticket["version"]}"'},
    )
    assert stale.status_code == 412
    assert stale.json()["current"]["status"] == "called"
    fresh = await clerk04.post(
        f"/api/v1/tickets/{ticket['id']}/start",
        headers={**key(), "If-Match": called.headers["ETag"]},
    )
    assert fresh.status_code == 200


async def test_a_clerk_calls_only_for_the_window_logged_in_to(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    await issue(terminal, PASSPORT)
    response = await call_next(clerk04, "W07")
    assert response.status_code == 403
    assert (await call_next(clerk04, "W99")).status_code == 404


async def test_a_transfer_needs_a_reason(
    terminal: httpx.AsyncClient, clerk04: httpx.AsyncClient
) -> None:
    ticket = await issue(terminal)
    await call_next(clerk04, "W04")
    for body in ({"service_item": PASSPORT}, {"service_item": PASSPORT, "reason": "   "}):
        refused = await act(clerk04, ticket, "transfer", **body)
        assert refused.status_code == 422, refused.text
        assert problem_kind(refused) == "validation"
        assert ["body", "reason"] in [e["loc"] for e in refused.json()["errors"]]
    held = await clerk04.get(f"/api/v1/tickets/{ticket['id']}")
    assert (held.json()["status"], held.json()["service_item"]) == ("called", MARRIAGE)


async def test_a_ticket_is_not_sent_to_a_closed_or_paused_window(
    fresh_backend: Backend,
    terminal: httpx.AsyncClient,
    clerk04: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
) -> None:
    clerk07 = await fresh_backend.login("clerk07", "W07")
    ticket = await issue(terminal)
    await call_next(clerk04, "W04")
    closed = await supervisor.post("/api/v1/windows/W02/close", json={}, headers=key())
    assert closed.status_code == 200, closed.text
    paused = await clerk07.post("/api/v1/windows/W07/pause", json={"reason": "x"}, headers=key())
    assert paused.status_code == 200, paused.text
    for window, state in (("W02", "closed"), ("W07", "paused")):
        refused = await act(clerk04, ticket, "transfer", window=window, reason="their desk")
        assert refused.status_code == 409, refused.text
        assert problem_kind(refused) == "transfer-window-not-open"
        assert (refused.json()["window"], refused.json()["state"]) == (window, state)
    held = (await clerk04.get(f"/api/v1/tickets/{ticket['id']}")).json()
    assert (held["status"], held["window"], held["target_window"]) == ("called", "W04", None)
    await clerk07.post("/api/v1/windows/W07/resume", headers=key())
    moved = await act(clerk04, ticket, "transfer", window="W07", reason="their desk")
    assert moved.json()["target_window"] == "W07"
    await clerk07.aclose()
