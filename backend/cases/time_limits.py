"""Provides the promised time limit of a case: the hall's day, the pauses, the deadline and the
clock the case reports (on top of `backend.hall.working_calendar`).

A case's clock is `not_started` until acceptance, then `running`; a supplement request after
acceptance pauses it (`paused`) until the supplement arrives, and approving, rejecting or
withdrawing an accepted case stops it (`stopped`). Pauses are kept on the case as
`details["pauses"]`: a list of `[requested_on, arrived_on or None]` ISO dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from backend.hall.catalogue import hall_rules
from backend.hall.working_calendar import ClockState, PausedSpan, WorkingCalendar

DEFAULT_TIMEZONE = "Asia/Shanghai"


@cache
def working_calendar() -> WorkingCalendar:
    """The calendar of every year shipped in `backend/data/calendars` (one TOML file a year)."""
    return WorkingCalendar.load()


def clock_state_of() -> ClockState:
    return ClockState(working_calendar())


def hall_day(now: datetime, timezone: str | None) -> date:
    """The hall's local calendar day at `now`."""
    return now.astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE)).date()


def pauses_of(details: Mapping[str, Any] | None) -> list[PausedSpan]:
    spans: list[PausedSpan] = []
    for start, end in (details or {}).get("pauses", []):
        spans.append((date.fromisoformat(start), date.fromisoformat(end) if end else None))
    return spans


def pauses_json(spans: Sequence[PausedSpan]) -> list[list[str | None]]:
    return [[start.isoformat(), end.isoformat() if end else None] for start, end in spans]


def deadline_for(
    accepted_on: date, promised_days: int, spans: Sequence[PausedSpan], as_of: date
) -> date:
    """The promised completion date; an open pause counts as ending on `as_of`."""
    return clock_state_of().promised_deadline(accepted_on, promised_days, spans, as_of=as_of)


def due_soon_bound(today: date, due_soon_days: int) -> date:
    """The first deadline that is `on_track` today: deadlines from today up to the day before
    this one are `due_soon` (at most `due_soon_days` working days left)."""
    calendar = working_calendar()
    return calendar.next_working_day(calendar.add_working_days(today, due_soon_days))


def time_limit(
    *,
    clock: str,
    accepted_on: date | None,
    completed_on: date | None,
    promised_days: int,
    details: Mapping[str, Any] | None,
    today: date,
    due_soon_days: int,
) -> dict[str, Any]:
    """The case's `TimeLimit` body."""
    spans = pauses_of(details)
    body: dict[str, Any] = {
        "promised_days": promised_days,
        "clock": clock,
        "accepted_on": accepted_on,
        "pauses": spans,
        "completed_on": completed_on,
    }
    if accepted_on is None:
        return {**body, "clock": "not_started"}
    as_of = completed_on if clock == "stopped" and completed_on else today
    deadline = deadline_for(accepted_on, promised_days, spans, as_of)
    clocks = clock_state_of()
    body["deadline"] = deadline
    body["working_days_left"] = clocks.working_days_left(deadline, as_of)
    open_pause = [start for start, end in spans if end is None]
    if clock == "paused" and open_pause:
        body["paused_since"] = open_pause[-1]
    if clock == "stopped":
        body["finished_on_time"] = as_of <= deadline
        return body
    body["status"] = clocks.clock_status(
        deadline, today, due_soon_days=due_soon_days, paused=clock == "paused"
    )
    return body


@dataclass(frozen=True)
class HallDay:
    """What the time limits of one hall are computed against: its day and its settings."""

    today: date
    due_soon_days: int
    timezone: str


def hall_day_of(conn: Connection, hall_id: int, now: datetime | None) -> HallDay:
    rules = hall_rules(conn, hall_id)
    timezone = str(rules.get("timezone") or "Asia/Shanghai")
    today = hall_day(now or datetime.now(UTC), timezone)
    return HallDay(today, int(rules.get("due_soon_working_days", 1)), timezone)


def case_time_limit(row: Any, day: HallDay) -> dict[str, Any]:
    return time_limit(
        clock=row.clock_state,
        accepted_on=row.accepted_on,
        completed_on=row.completed_on,
        promised_days=row.promised_days,
        details=row.details,
        today=day.today,
        due_soon_days=day.due_soon_days,
    )


def completion_date(row: Any, limit: dict[str, Any], today: date) -> date:
    """The promised completion date, or the one acceptance today would promise."""
    deadline = limit.get("deadline")
    if isinstance(deadline, date):
        return deadline
    return working_calendar().add_working_days(today, row.promised_days)
