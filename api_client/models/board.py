"""Provides the supervisor board bodies: the snapshot and the supervisor's actions.

`Board` is the starting point only: it names the event sequence number it is consistent with
(`seq`), and a client keeps it current from the event stream after that number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from api_client.models.alarms import Alarm
from api_client.models.common import RequestModel, ResponseModel, Text

WindowActivity = Literal["serving", "calling", "paused", "idle", "closed"]
WaitLevel = Literal["ok", "warning", "critical"]
ClockStatus = Literal["due_soon", "overdue"]

QUARTER_HOUR_MINUTES = 15


class BoardWindow(ResponseModel):
    code: str
    number: int
    name: str
    name_en: str
    service_items: list[str]
    clerk: str | None = Field(default=None, description="Username of the clerk logged in here.")
    state: Literal["open", "paused", "closed"] = Field(description="The window's own state.")
    activity: WindowActivity
    pause_reason: str | None = None
    ticket_id: int | None = None
    ticket: str | None = Field(default=None, description="The number of the ticket held.")
    since: datetime | None = Field(default=None, description="When the held ticket was called.")
    served_today: int = 0
    idle_seconds: float = Field(
        default=0, description="Idle time today up to `idle_since` (or until now when not idle)."
    )
    idle_since: datetime | None = Field(default=None, description="Idle from then on (or None).")
    version: int


class BoardTicket(ResponseModel):
    """A ticket of today still in play (waiting, held at a window, or a no-show)."""

    id: int
    number: str
    service_item: str
    status: Literal["waiting", "called", "serving", "parked", "no_show"]
    window: str | None = None
    target_window: str | None = None
    queued_at: datetime
    called_at: datetime | None = None
    version: int


class StrandedTicket(ResponseModel):
    """A waiting ticket sent to one window where nobody can call it: the window is closed or
    nobody is logged in to it. The supervisor moves it on or staffs the window."""

    ticket_id: int
    number: str
    service_item: str
    window: str
    queued_at: datetime


class BoardQueue(ResponseModel):
    service_item: str
    name: str
    name_en: str
    department: str
    waiting: int
    longest_wait_seconds: float
    average_wait_seconds: float
    served_today: int
    no_shows_today: int
    warning_minutes: int
    critical_minutes: int
    level: WaitLevel


class BoardCase(ResponseModel):
    """An accepted case whose promised time limit is near or past."""

    id: int
    number: str
    service_item: str
    department: str
    department_name: str
    department_name_en: str
    assignee: str | None = None
    status: str
    deadline: date
    clock: ClockStatus
    version: int


class BoardRating(ResponseModel):
    id: int
    score: int = Field(ge=1, le=5)
    subject: str = Field(description="The ticket or case number rated.")
    clerk: str | None = None
    at: datetime


class BoardRatings(ResponseModel):
    count: int
    satisfied: int = Field(description="Ratings of 3 or more (基本满意 and better).")
    satisfaction_rate: float | None = Field(default=None, description="satisfied / count.")
    bad: list[BoardRating] = Field(description="Today's ratings of 1 or 2, newest first.")


class BoardTrend(ResponseModel):
    """Per quarter hour of the hall's day, from local midnight up to the current quarter."""

    start: datetime
    bucket_minutes: int = QUARTER_HOUR_MINUTES
    tickets: list[int] = Field(description="Tickets issued in each quarter hour.")
    wait_seconds_total: list[float] = Field(
        description="Sum of the waits (issue to call) of the tickets called in each quarter."
    )
    called: list[int] = Field(description="Tickets called in each quarter.")


class Board(ResponseModel):
    hall: str
    timezone: str
    day: date
    generated_at: datetime
    seq: int = Field(description="The snapshot holds every event up to this sequence number.")
    due_soon_before: date = Field(description="Deadlines before this day are due soon.")
    wait_warning_minutes: int
    wait_critical_minutes: int
    windows: list[BoardWindow]
    tickets: list[BoardTicket]
    stranded: list[StrandedTicket] = Field(
        default_factory=list,
        description="Waiting tickets sent to a window that is closed or has nobody logged in.",
    )
    queues: list[BoardQueue]
    cases: list[BoardCase]
    alarms: list[Alarm] = Field(description="Unacknowledged alarms, newest first.")
    ratings: BoardRatings
    trend: BoardTrend


class CaseReassign(RequestModel):
    assignee: Text = Field(min_length=1, max_length=64, description="The clerk's username.")
    note: Text | None = Field(default=None, max_length=500)


class WindowClose(RequestModel):
    reason: Text | None = Field(default=None, max_length=200)
