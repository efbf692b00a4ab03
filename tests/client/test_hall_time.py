"""The hall's time: the session names the hall's zone, and the one helper shows every instant in
it, whatever the machine's zone; the server dates notices and case numbers by the hall's day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from api_client import Client
from backend.hall.seed import DEMO_PASSWORD
from tests.api.cases_support import SUBSISTENCE_REQUIRED, decided, intake, provide
from tests.conftest import Backend
from workbench.hall_time import DEFAULT_TIMEZONE, HallClock, hall_clock, use_hall_timezone

EVENING_UTC = datetime(2026, 12, 5, 18, 59, tzinfo=UTC)  # 02:59 on 6 December in Dalian


async def test_the_session_names_the_halls_time_zone(fresh_backend: Backend) -> None:
    async with Client(fresh_backend.base_url) as client:
        login = await client.login("clerk01", DEMO_PASSWORD, "W01")
        me = await client.me()
    assert login.me.timezone == me.timezone == "Asia/Shanghai"
    assert use_hall_timezone(me.timezone) is hall_clock()
    assert hall_clock().timezone == "Asia/Shanghai"


def test_instants_show_in_the_halls_zone_not_the_machines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    clock = HallClock("Asia/Shanghai", lambda: EVENING_UTC)
    assert clock.time() == "02:59" and clock.time(seconds=True) == "02:59:00"
    assert clock.today() == date(2026, 12, 6) and clock.day() == "2026-12-06"
    assert clock.day(EVENING_UTC) == "2026-12-06"
    assert clock.time(EVENING_UTC.replace(tzinfo=None)) == "02:59"  # naive = UTC
    assert clock.moment(EVENING_UTC) == "02:59"
    assert clock.moment(datetime(2026, 12, 4, 1, 0, tzinfo=UTC)) == "2026-12-04 09:00"
    assert use_hall_timezone("Mars/Olympus").timezone == DEFAULT_TIMEZONE
    assert use_hall_timezone(None).timezone == DEFAULT_TIMEZONE


async def test_notice_and_case_number_carry_the_halls_day(
    fresh_backend: Backend,
) -> None:
    # 02:59 in the hall is still yesterday in UTC: the citizen reads the hall's day everywhere
    fresh_backend.clock.offset = EVENING_UTC - datetime.now(UTC)
    portal = await fresh_backend.login("portal01")
    clerk = await fresh_backend.login("clerk03", "W03")
    try:
        case: dict[str, Any] = await intake(portal)
        assert "-20261206-" in case["number"]
        await provide(clerk, case, *SUBSISTENCE_REQUIRED, document={"valid_until": "2040-01-01"})
        notice = (await decided(clerk, case, "accept"))["case"]["notices"][-1]
        text = (await clerk.get(notice["text_url"])).text
        assert "签发日期：2026年12月6日" in text and "Issued on: 6 December 2026" in text
    finally:
        await portal.aclose()
        await clerk.aclose()
