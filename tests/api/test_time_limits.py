"""Promised time limits over HTTP: deadlines across the National Day holiday week and its make-up
Saturday, the clock paused by a supplement and restarted the day after it arrives, 容缺 due
dates, and the list filtered and sorted by the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from tests.api.cases_support import (
    MIGRATION,
    codes,
    current,
    decided,
    intake,
    provide,
    row,
    set_today,
    verify,
)
from tests.conftest import Backend

VALID = {"document": {"valid_until": "2040-01-01"}}
MIGRATION_REQUIRED = ("id_card", "household_register", "property_proof")


ACCOUNTS = (("portal01", None), ("clerk05", "W05"))


@pytest.fixture
async def clients(fresh_backend: Backend) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    set_today(fresh_backend, date(2026, 9, 30))
    pair = tuple([await fresh_backend.login(user, window) for user, window in ACCOUNTS])
    fresh_backend.clients = pair  # type: ignore[attr-defined]
    yield pair
    for client in pair:
        await client.aclose()


async def travel(backend: Backend, day: date) -> None:
    """Move the server's clock to `day` and log the clients in again (tokens last 12 hours)."""
    set_today(backend, day)
    for client, (user, window) in zip(backend.clients, ACCOUNTS, strict=True):  # type: ignore[attr-defined]
        fresh = await backend.login(user, window)
        client.headers["Authorization"] = fresh.headers["Authorization"]
        await fresh.aclose()


async def accepted_case(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient, **body: Any
) -> dict[str, Any]:
    case = await intake(portal, item=MIGRATION)
    await provide(clerk, case, *MIGRATION_REQUIRED, **VALID)
    return dict((await decided(clerk, case, "accept", **body))["case"])


async def listed(clerk: httpx.AsyncClient, **params: Any) -> list[int]:
    response = await clerk.get("/api/v1/cases", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_a_deadline_across_the_national_day_week_lands_on_the_makeup_saturday(
    fresh_backend: Backend, clients: tuple[httpx.AsyncClient, ...]
) -> None:
    portal, clerk = clients
    case = await accepted_case(portal, clerk)
    limit = case["time_limit"]
    # accepted Wed 30 Sep; 1-7 Oct are off; Thu 8, Fri 9 and Sat 10 (调休) are working days
    assert limit["accepted_on"] == "2026-09-30"
    assert limit["deadline"] == "2026-10-10"
    assert (limit["working_days_left"], limit["status"]) == (3, "on_track")

    await travel(fresh_backend, date(2026, 10, 5))  # inside the holiday: still 3 days left
    assert (await current(clerk, case))["time_limit"]["working_days_left"] == 3

    await travel(fresh_backend, date(2026, 10, 9))
    limit = (await current(clerk, case))["time_limit"]
    assert (limit["working_days_left"], limit["status"]) == (1, "due_soon")
    assert case["id"] in await listed(clerk, clock_status="due_soon")
    assert case["id"] not in await listed(clerk, clock_status="on_track")

    await travel(fresh_backend, date(2026, 10, 12))
    limit = (await current(clerk, case))["time_limit"]
    assert (limit["working_days_left"], limit["status"]) == (-1, "overdue")
    assert await listed(clerk, clock_status="overdue") == [case["id"]]


async def test_the_clock_pauses_for_a_supplement_and_restarts_the_day_after_it_arrives(
    fresh_backend: Backend, clients: tuple[httpx.AsyncClient, ...]
) -> None:
    portal, clerk = clients
    await travel(fresh_backend, date(2026, 11, 2))  # Monday
    case = await accepted_case(portal, clerk)
    assert case["time_limit"]["deadline"] == "2026-11-05"

    await travel(fresh_backend, date(2026, 11, 3))  # one working day used
    paused = await decided(
        clerk, case, "supplement", items=[{"material": "property_proof", "reason": "复印件缺页"}]
    )
    limit = paused["case"]["time_limit"]
    assert (limit["clock"], limit["status"], limit["paused_since"]) == (
        "paused",
        "paused",
        "2026-11-03",
    )
    assert await listed(clerk, clock_status="paused") == [case["id"]]

    await travel(fresh_backend, date(2026, 11, 5))  # the old deadline passes while paused
    limit = (await current(clerk, case))["time_limit"]
    assert limit["status"] == "paused"
    assert limit["deadline"] == "2026-11-09"  # if the supplement arrived today

    await travel(fresh_backend, date(2026, 11, 6))  # Friday: the supplement arrives
    await provide(clerk, case, "property_proof", **VALID)
    resumed = await decided(clerk, case, "supplement_received")
    limit = resumed["case"]["time_limit"]
    assert resumed["case"]["status"] == "accepted"
    # day 1 was Tue 3 Nov; counting restarts Mon 9 Nov (day 2) and ends Tue 10 Nov (day 3)
    assert (limit["clock"], limit["deadline"], limit["status"]) == (
        "running",
        "2026-11-10",
        "on_track",
    )
    assert limit["pauses"] == [["2026-11-03", "2026-11-06"]]
    await travel(fresh_backend, date(2026, 11, 10))
    approved = await decided(clerk, case, "approve")
    assert approved["case"]["time_limit"]["finished_on_time"] is True


async def test_owed_materials_are_due_by_the_promised_completion_date(
    fresh_backend: Backend, clients: tuple[httpx.AsyncClient, ...]
) -> None:
    portal, clerk = clients
    case = await intake(portal, item=MIGRATION)
    await provide(clerk, case, *MIGRATION_REQUIRED, **VALID)
    await verify(clerk, case, "consent", status="owed")
    late = [{"material": "consent", "due_on": "2026-10-11"}]
    result = await clerk.post(
        f"/api/v1/cases/{case['id']}/decisions",
        json={"decision": "accept_with_owed", "pledge_signed": True, "owed_due": late},
        headers={
            "Idempotency-Key": "owed-late",
            "If-Match": f'"{(await current(clerk, case))["version"]}"',
        },
    )
    assert result.status_code == 422
    accepted = (await decided(clerk, case, "accept_with_owed", pledge_signed=True))["case"]
    assert row(accepted, "consent")["owed_due_on"] == "2026-10-10"
    assert "material_owed" in codes(accepted, "consent")
    await travel(fresh_backend, date(2026, 10, 12))
    overdue = await current(clerk, case)
    assert "owed_overdue" in codes(overdue, "consent")
    text = (await clerk.get(accepted["notices"][-1]["text_url"])).text
    assert "容缺受理告知承诺书" in text and "2026年10月10日" in text


async def test_the_list_sorts_by_deadline_and_pages_by_keyset(
    fresh_backend: Backend, clients: tuple[httpx.AsyncClient, ...]
) -> None:
    portal, clerk = clients
    await travel(fresh_backend, date(2026, 11, 9))
    first = await accepted_case(portal, clerk)  # 3 working days: 12 Nov
    await travel(fresh_backend, date(2026, 11, 2))
    earlier = await accepted_case(portal, clerk)  # 5 Nov
    late_item = await intake(portal, item="MZ-003")  # 10 days
    await provide(
        clerk, late_item, "id_card", "household_register", "social_security_card", **VALID
    )
    latest = (await decided(clerk, late_item, "accept"))["case"]
    unaccepted = await intake(portal, item=MIGRATION)
    ids = await listed(clerk, sort="deadline")
    assert ids == [earlier["id"], first["id"], latest["id"], unaccepted["id"]]
    page = await clerk.get("/api/v1/cases", params={"sort": "deadline", "limit": 2})
    cursor = page.json()["next_cursor"]
    rest = await listed(clerk, sort="deadline", limit=2, cursor=cursor)
    assert [i["id"] for i in page.json()["items"]] + rest == ids
    bad = await clerk.get("/api/v1/cases", params={"sort": "deadline", "cursor": "nonsense"})
    assert bad.status_code == 422
    assert (await clerk.get("/api/v1/cases", params={"clock_status": "late"})).status_code == 422
