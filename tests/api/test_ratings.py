"""Citizen ratings (好差评) over HTTP: rating a finished ticket or a decided case, the refusals,
and the 15-working-day follow-up a bad rating opens, with the clerk's and supervisor's responses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from tests.api.cases_support import clerk, decided, intake, portal, set_today
from tests.conftest import Backend, key
from tests.problems import problem_kind

__all__ = ["clerk", "portal"]  # fixtures


async def rate(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/ratings", json=body, headers=key())


async def respond(client: httpx.AsyncClient, rating: int, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/ratings/{rating}/responses", json=body, headers=key())


@pytest.fixture
async def supervisor(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await backend.login("super01")
    yield client
    await client.aclose()


async def test_a_good_rating_of_a_decided_case_opens_no_follow_up(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    undecided = await rate(portal, case=case["id"], score=5)
    assert undecided.status_code == 409
    await decided(clerk, case, "withdraw")
    response = await rate(portal, case=case["id"], score=5, categories=["attitude"], comment="好")
    assert response.status_code == 201, response.text
    rating = response.json()
    assert (rating["score_label"], rating["score_label_en"]) == ("非常满意", "very satisfied")
    assert rating["follow_up"] is None
    assert rating["clerk"] == "clerk03" and rating["channel"] == "portal"
    again = await rate(portal, case=case["id"], score=1)
    assert again.status_code == 409 and problem_kind(again) == "already-rated"


async def test_bad_rating_bodies_are_refused(portal: httpx.AsyncClient) -> None:
    for body in (
        {"score": 3},
        {"case": 1, "ticket": 1, "score": 3},
        {"case": 1, "score": 0},
        {"case": 1, "score": 6},
        {"case": 1, "score": 3, "categories": ["speed"]},
        {"case": 1, "score": 3, "categories": ["attitude", "attitude"]},
    ):
        response = await rate(portal, **body)
        assert response.status_code == 422, body
    assert (await rate(portal, case=10**9, score=3)).status_code == 404
    assert (await rate(portal, ticket=10**9, score=3)).status_code == 404


async def test_clerks_cannot_submit_ratings(clerk: httpx.AsyncClient) -> None:
    assert (await rate(clerk, case=1, score=1)).status_code == 403


async def test_a_bad_rating_opens_a_follow_up_due_in_15_working_days(
    fresh_backend: Backend,
) -> None:
    set_today(fresh_backend, date(2026, 9, 24))  # Thursday before Mid-Autumn and National Day
    terminal = await fresh_backend.login("terminal01")
    clerk = await fresh_backend.login("clerk04", "W04")
    supervisor = await fresh_backend.login("super01")
    issued = await terminal.post("/api/v1/tickets", json={"service_item": "MZ-001"}, headers=key())
    ticket = issued.json()
    early = await rate(terminal, ticket=ticket["id"], score=1)
    assert early.status_code == 409  # not finished yet
    called = await clerk.post("/api/v1/windows/W04/call-next", headers=key())
    assert called.json()["id"] == ticket["id"]
    for action, body in (("start", None), ("finish", {"outcome": "completed"})):
        done = await clerk.post(
            f"/api/v1/tickets/{ticket['id']}/{action}", json=body, headers=key()
        )
        assert done.status_code == 200, done.text
    response = await rate(terminal, ticket=ticket["id"], score=2, categories=["efficiency"])
    assert response.status_code == 201, response.text
    rating = response.json()
    assert rating["subject_label"] == ticket["number"]
    assert rating["clerk"] == "clerk04"
    # 25 Sep and 1-7 Oct are off; 28-30 Sep, 8-9 Oct and Sat 10 Oct (调休) are days 1-6,
    # then 12-16 Oct (7-11) and 19-22 Oct (12-15)
    assert rating["follow_up"]["due_on"] == "2026-10-22"
    assert rating["follow_up"]["state"] == "open" and rating["follow_up"]["overdue"] is False

    closed_early = await respond(supervisor, rating["id"], text="已核实", close=True)
    assert closed_early.status_code == 409  # the clerk's response comes first
    clerk_close = await respond(clerk, rating["id"], text="已向群众致歉", close=True)
    assert clerk_close.status_code == 403
    clerk_said = await respond(clerk, rating["id"], text="已向群众致歉并说明办理进度")
    assert clerk_said.status_code == 201
    closed = await respond(supervisor, rating["id"], text="已约谈窗口人员，整改完毕", close=True)
    assert closed.status_code == 201
    follow_up = closed.json()["follow_up"]
    assert follow_up["state"] == "closed" and follow_up["closed_by"] == "super01"
    assert [r["role"] for r in follow_up["responses"]] == ["clerk", "supervisor"]
    assert (await respond(clerk, rating["id"], text="补充")).status_code == 409
    listed = await supervisor.get("/api/v1/ratings", params={"follow_up": "closed"})
    assert [item["id"] for item in listed.json()["items"]] == [rating["id"]]
    for client in (terminal, clerk, supervisor):
        await client.aclose()


async def test_an_open_follow_up_becomes_overdue(
    fresh_backend: Backend,
) -> None:
    set_today(fresh_backend, date(2026, 11, 2))
    portal = await fresh_backend.login("portal01")
    clerk = await fresh_backend.login("clerk05", "W05")
    case = await intake(portal)
    await decided(clerk, case, "withdraw")
    rating = (await rate(portal, case=case["id"], score=1, comment="等太久")).json()
    assert rating["follow_up"]["due_on"] == "2026-11-23"
    good = await intake(portal)
    await decided(clerk, good, "withdraw")
    assert (await rate(portal, case=good["id"], score=4)).json()["follow_up"] is None
    set_today(fresh_backend, date(2026, 11, 24))
    supervisor = await fresh_backend.login("super01")
    overdue = await supervisor.get("/api/v1/ratings", params={"follow_up": "overdue"})
    assert [item["id"] for item in overdue.json()["items"]] == [rating["id"]]
    assert overdue.json()["items"][0]["follow_up"]["overdue"] is True
    one = await supervisor.get(f"/api/v1/ratings/{rating['id']}")
    assert one.json()["comment"] == "等太久"
    low = await supervisor.get("/api/v1/ratings", params={"max_score": 2})
    assert [item["id"] for item in low.json()["items"]] == [rating["id"]]
    assert (await supervisor.get("/api/v1/ratings/999999")).status_code == 404
    for client in (portal, clerk, supervisor):
        await client.aclose()
