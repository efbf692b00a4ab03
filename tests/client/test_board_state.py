"""`BoardState` fed with real events from the real backend: after any run of changes, the state
folded event by event says what a fresh snapshot says, and the alerts come when they should."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from api_client import Client, EventStream
from api_client.models import Event
from tests.api.cases_support import MIGRATION, decided, intake, provide, set_today
from tests.api.test_board import MIGRATION_REQUIRED, VALID, act, issue
from tests.conftest import Backend, key
from workbench.board_state import IDLE_ALERT_SECONDS, BoardState, QueueRow


@pytest.fixture
async def supervisor(fresh_backend: Backend) -> AsyncIterator[Client]:
    client = Client(fresh_backend.base_url)
    await client.login("super01", "demo1234")
    yield client
    await client.aclose()


@pytest.fixture
async def hall(fresh_backend: Backend) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        "terminal": await fresh_backend.login("terminal01"),
        "clerk01": await fresh_backend.login("clerk01", "W01"),
        "clerk02": await fresh_backend.login("clerk02", "W02"),
        "super": await fresh_backend.login("super01"),
        "portal": await fresh_backend.login("portal01"),
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def catch_up(client: Client, state: BoardState) -> list[Event]:
    """Read the stream from the state's seq up to the hall's newest event and apply each."""
    head = (await client.board()).seq
    seen: list[Event] = []
    stream = EventStream(client, after=state.seq)
    async for event in stream:
        seen.append(event)
        state.apply(event)
        if event.seq >= head:
            break
    await stream.aclose()
    return seen


def summary(state: BoardState, now: datetime) -> dict[str, Any]:
    """What the board shows, as plain data (times rounded to the minute)."""
    today = state.today(now)
    windows = {
        code: (
            w.activity,
            w.clerk,
            w.pause_reason,
            w.ticket.number if w.ticket else None,
            w.served_today,
            round(w.idle_total(now) / 60),
        )
        for code, w in state.windows.items()
    }
    queues = {
        item: (
            len(q.waiting),
            round(q.longest_wait(now) / 60),
            round(q.average_wait(now) / 60),
            q.served_today,
            q.no_shows_today,
            q.level(now),
        )
        for item, q in state.queues.items()
    }
    trend = state.trend
    return {
        "windows": windows,
        "queues": queues,
        "cases": {c.id: (c.assignee, c.deadline, c.clock(today)) for c in state.cases.values()},
        "alarms": sorted(state.alarms),
        "no_shows": sorted(t.number for t in state.no_shows()),
        "ratings": (
            state.ratings.count,
            state.ratings.satisfied,
            [r["id"] for r in state.ratings.bad],
        ),
        "trend": (trend.tickets, trend.called, [round(x) for x in trend.wait_total]),
    }


def test_a_queue_keeps_its_longest_and_average_wait_as_tickets_come_and_go() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    queue = QueueRow("GA-001", "GA-001", "GA-001", "GA", 0, 0, 15, 30)
    joined: dict[int, datetime] = {}
    moves = [(n, start + timedelta(minutes=n)) for n in range(1, 9)]
    for ticket, at in moves:
        queue.join(ticket, at)
        joined[ticket] = at
    for ticket in (1, 4, 2):  # the oldest leaves, one from the middle, the oldest again
        queue.leave(ticket)
        del joined[ticket]
    queue.join(1, start)  # back in the queue with its first place (a reactivated no-show)
    joined[1] = start
    now = start + timedelta(minutes=30)
    waits = [(now - at).total_seconds() for at in joined.values()]
    assert queue.longest_wait(now) == max(waits) == 30 * 60
    assert queue.average_wait(now) == pytest.approx(sum(waits) / len(waits))
    queue.leave(1)
    assert queue.longest_wait(now) == 30 * 60 - 3 * 60
    for ticket in list(queue.waiting):
        queue.leave(ticket)
    assert (queue.longest_wait(now), queue.average_wait(now)) == (0.0, 0.0)


async def assert_matches_fresh_snapshot(client: Client, state: BoardState, now: datetime) -> None:
    await catch_up(client, state)
    fresh = BoardState.from_board(await client.board())
    assert state.seq == fresh.seq
    assert summary(state, now) == summary(fresh, now)


async def test_the_folded_state_matches_a_fresh_snapshot_after_a_busy_spell(
    fresh_backend: Backend, supervisor: Client, hall: dict[str, httpx.AsyncClient]
) -> None:
    terminal, one, two, sup = hall["terminal"], hall["clerk01"], hall["clerk02"], hall["super"]
    state = BoardState.from_board(await supervisor.board())
    tickets = [await issue(terminal, "GA-001") for _ in range(4)] + [
        await issue(terminal, "MZ-002")
    ]
    fresh_backend.clock.advance(timedelta(minutes=3))
    first = tickets[0]["id"]
    await act(one, first, "call")
    await act(one, first, "start")
    fresh_backend.clock.advance(timedelta(minutes=4))
    await act(one, first, "finish", {"outcome": "completed"})
    await act(sup, tickets[1]["id"], "transfer", {"window": "W02", "reason": "W01 is busy"})
    called = await two.post("/api/v1/windows/W02/call-next", headers=key())
    assert called.json()["id"] == tickets[1]["id"]
    await act(two, tickets[1]["id"], "no-show")
    await act(sup, tickets[1]["id"], "reactivate")
    await act(sup, tickets[2]["id"], "transfer", {"service_item": "GA-002", "reason": "queue"})
    await act(one, tickets[3]["id"], "call")
    await act(one, tickets[3]["id"], "park")
    await two.post("/api/v1/windows/W02/pause", json={"reason": "lunch"}, headers=key())
    await sup.post("/api/v1/windows/W03/close", headers=key())
    await terminal.post("/api/v1/ratings", json={"ticket": first, "score": 1}, headers=key())
    alarm = (await one.post("/api/v1/windows/W01/alarm", headers=key())).json()
    walk = await one.post(
        "/api/v1/windows/W01/walk-in", json={"service_item": "GA-001"}, headers=key()
    )
    assert walk.status_code == 201
    now = datetime.now(UTC) + fresh_backend.clock.offset

    await assert_matches_fresh_snapshot(supervisor, state, now)
    assert state.windows["W02"].activity == "paused"
    assert state.windows["W02"].pause_reason == "lunch"
    assert state.windows["W03"].activity == "closed"
    assert state.windows["W01"].activity == "serving"  # the walk-in
    assert len(state.queues["GA-001"].waiting) == 1  # the reactivated no-show
    assert state.queues["GA-001"].served_today == 1
    kinds = [(a.kind, a.subject) for a in state.alerts]
    assert ("alarm", "W01") in kinds and ("bad_rating", tickets[0]["number"]) in kinds
    # acknowledging the alarm takes its alert off the feed, for everyone following the stream
    await sup.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=key())
    await catch_up(supervisor, state)
    assert not [a for a in state.alerts if a.kind == "alarm"] and not state.alarms


async def test_a_ticket_waiting_for_a_window_nobody_is_at_raises_an_alert(
    fresh_backend: Backend, supervisor: Client, hall: dict[str, httpx.AsyncClient]
) -> None:
    state = BoardState.from_board(await supervisor.board())
    ticket = await issue(hall["terminal"], "GA-001")
    await act(hall["super"], ticket["id"], "transfer", {"window": "W03", "reason": "its desk"})
    await catch_up(supervisor, state)
    now = datetime.now(UTC) + fresh_backend.clock.offset
    state.tick(now)
    stranded = [a for a in state.alerts if a.kind == "stranded"]
    assert [(a.subject, a.detail["window"]) for a in stranded] == [(ticket["number"], "W03")]
    fresh = await supervisor.board()
    assert [t.id for t in state.stranded()] == [s.ticket_id for s in fresh.stranded]
    clerk03 = await fresh_backend.login("clerk03", "W03")
    await catch_up(supervisor, state)
    assert state.stranded() == []
    await clerk03.post("/api/v1/auth/logout")
    await clerk03.aclose()
    await catch_up(supervisor, state)
    assert [t.id for t in state.stranded()] == [ticket["id"]]
    assert [t.id for t in BoardState.from_board(await supervisor.board()).stranded()] == [
        ticket["id"]
    ]


async def test_time_brings_wait_idle_and_overdue_alerts(
    fresh_backend: Backend, supervisor: Client, hall: dict[str, httpx.AsyncClient]
) -> None:
    start = datetime.now(UTC) + fresh_backend.clock.offset
    await issue(hall["terminal"], "GA-001")
    state = BoardState.from_board(await supervisor.board())
    state.tick(start)
    assert not state.alerts
    state.tick(start + timedelta(minutes=16))
    said = {(a.kind, a.subject) for a in state.alerts}
    assert ("wait_warning", "GA-001") in said and ("idle", "W01") in said  # W01 serves GA-001
    assert ("idle", "W05") not in said  # logged in nowhere: closed, not idle
    count = len(state.alerts)
    state.tick(start + timedelta(minutes=17))
    assert len(state.alerts) == count  # said once, not on every tick
    state.tick(start + timedelta(minutes=31))
    assert state.alerts[0].kind == "wait_critical" and state.alerts[0].subject == "GA-001"
    # a local alert can be dismissed; an alarm cannot (it goes when acknowledged)
    assert state.dismiss(state.alerts[0].key)
    assert IDLE_ALERT_SECONDS < 16 * 60


async def test_a_case_becoming_overdue_raises_an_alert(fresh_backend: Backend) -> None:
    set_today(fresh_backend, date(2026, 11, 9))
    portal = await fresh_backend.login("portal01")
    clerk = await fresh_backend.login("clerk05", "W05")
    case = await intake(portal, item=MIGRATION)
    await provide(clerk, case, *MIGRATION_REQUIRED, **VALID)
    deadline = date.fromisoformat(
        (await decided(clerk, case, "accept"))["case"]["time_limit"]["deadline"]
    )
    set_today(fresh_backend, deadline)
    supervisor = Client(fresh_backend.base_url)
    await supervisor.login("super01", "demo1234")
    state = BoardState.from_board(await supervisor.board())
    assert state.cases[case["id"]].clock(deadline) == "due_soon"
    noon = datetime(deadline.year, deadline.month, deadline.day, 4, tzinfo=UTC)
    state.tick(noon)
    assert not state.alerts
    state.tick(noon + timedelta(days=1))
    assert [(a.kind, a.subject) for a in state.alerts] == [("overdue", case["number"])]
    # the case is approved: it leaves the board through its event
    clerk = await fresh_backend.login("clerk05", "W05")
    await decided(clerk, case, "approve")
    await catch_up(supervisor, state)
    assert case["id"] not in state.cases
    for client in (portal, clerk):
        await client.aclose()
    await supervisor.aclose()


async def test_a_reassigned_case_shows_its_new_assignee(
    fresh_backend: Backend, supervisor: Client, hall: dict[str, httpx.AsyncClient]
) -> None:
    set_today(fresh_backend, date(2026, 11, 9))
    clerk = await fresh_backend.login("clerk05", "W05")
    case = await intake(hall["portal"], item=MIGRATION)
    await provide(clerk, case, *MIGRATION_REQUIRED, **VALID)
    accepted = (await decided(clerk, case, "accept"))["case"]
    set_today(fresh_backend, date.fromisoformat(accepted["time_limit"]["deadline"]))
    await supervisor.login("super01", "demo1234")
    sup = await fresh_backend.login("super01")
    state = BoardState.from_board(await supervisor.board())
    assert state.cases[case["id"]].assignee == "clerk05"
    moved = await sup.post(
        f"/api/v1/cases/{case['id']}/reassign",
        json={"assignee": "clerk06"},
        headers={**key(), "If-Match": f'"{accepted["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    await catch_up(supervisor, state)
    assert state.cases[case["id"]].assignee == "clerk06"
    await clerk.aclose()
    await sup.aclose()
