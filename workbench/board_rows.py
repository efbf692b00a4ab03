"""Provides the rows of the supervisor board's state (`TicketRow`, `WindowRow`, `QueueRow`,
`CaseRow`), its `Alert`s, ratings and wait trend, and the thresholds they use. `BoardState`
(`workbench.board_state`) keeps them current."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

IDLE_ALERT_SECONDS = 120.0
"""A window idle this long while one of its queues waits raises an alert."""
MAX_ALERTS = 200
MAX_BAD_RATINGS = 100
CLOSED_CASE = frozenset({"approved", "rejected", "withdrawn", "merged"})
SATISFIED_FROM = 3
BAD_UP_TO = 2

AlertKind = Literal[
    "alarm", "wait_warning", "wait_critical", "idle", "overdue", "bad_rating", "stranded"
]
Section = Literal["windows", "queues", "cases", "alerts", "ratings", "trend"]
SECTIONS: tuple[Section, ...] = ("windows", "queues", "cases", "alerts", "ratings", "trend")


MIN_TREND_QUARTERS = 8
"""The trend sparklines show at least this many quarter hours."""


@dataclass(slots=True)  # thousands of them: no per-row __dict__ for the collector to walk
class TicketRow:
    id: int
    number: str
    service_item: str
    status: str
    window: str | None
    target_window: str | None
    queued_at: datetime
    called_at: datetime | None = None


@dataclass
class WindowRow:
    code: str
    number: int
    name: str
    name_en: str
    service_items: tuple[str, ...]
    clerk: str | None
    state: str
    pause_reason: str | None
    served_today: int
    idle_seconds: float
    idle_since: datetime | None
    ticket: TicketRow | None = None
    holding: set[int] = field(default_factory=set)

    @property
    def activity(self) -> str:
        if self.state == "closed" or self.clerk is None:
            return "closed"
        if self.state == "paused":
            return "paused"
        if self.ticket is not None and self.ticket.status == "called":
            return "calling"
        if self.ticket is not None and self.ticket.status == "serving":
            return "serving"
        return "idle"

    def idle_total(self, now: datetime) -> float:
        live = (now - self.idle_since).total_seconds() if self.idle_since is not None else 0.0
        return self.idle_seconds + max(0.0, live)

    def settle(self, at: datetime) -> None:
        """Start or end an idle spell after the window's state changed at `at`."""
        idle = self.activity == "idle" and not self.holding
        if idle and self.idle_since is None:
            self.idle_since = at
        elif not idle and self.idle_since is not None:
            self.idle_seconds += max(0.0, (at - self.idle_since).total_seconds())
            self.idle_since = None


@dataclass
class QueueRow:
    service_item: str
    name: str
    name_en: str
    department: str
    served_today: int
    no_shows_today: int
    warning_minutes: int
    critical_minutes: int
    waiting: dict[int, datetime] = field(default_factory=dict)
    """Waiting ticket id -> when it joined the queue (change it through `join` and `leave`)."""
    _joined_total: float = field(default=0.0, init=False, repr=False)
    """Sum of the waiting tickets' join times (POSIX seconds): the average wait in O(1)."""
    _oldest: datetime | None = field(default=None, init=False, repr=False)
    """The earliest join time, or None when it must be looked for again."""

    def join(self, ticket_id: int, at: datetime) -> None:
        self.leave(ticket_id)
        self.waiting[ticket_id] = at
        self._joined_total += at.timestamp()
        if self._oldest is not None and at < self._oldest:
            self._oldest = at

    def leave(self, ticket_id: int) -> None:
        at = self.waiting.pop(ticket_id, None)
        if at is None:
            return
        self._joined_total -= at.timestamp()
        if not self.waiting:
            self._joined_total = 0.0
        if at == self._oldest:
            self._oldest = None

    def longest_wait(self, now: datetime) -> float:
        if not self.waiting:
            return 0.0
        if self._oldest is None:  # once per repaint at most: the oldest left
            self._oldest = min(self.waiting.values())
        return max(0.0, (now - self._oldest).total_seconds())

    def average_wait(self, now: datetime) -> float:
        if not self.waiting:
            return 0.0
        return max(0.0, now.timestamp() - self._joined_total / len(self.waiting))

    def level(self, now: datetime) -> str:
        longest = self.longest_wait(now)
        if longest >= self.critical_minutes * 60:
            return "critical"
        if longest >= self.warning_minutes * 60:
            return "warning"
        return "ok"


@dataclass
class CaseRow:
    id: int
    number: str
    service_item: str
    department: str
    department_name: str
    department_name_en: str
    assignee: str | None
    status: str
    deadline: date
    version: int

    def clock(self, today: date) -> str:
        return "overdue" if self.deadline < today else "due_soon"


@dataclass(frozen=True)
class Alert:
    """One line of the alerts feed."""

    key: str
    kind: AlertKind
    at: datetime
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)
    alarm_id: int | None = None

    @property
    def emergency(self) -> bool:
        return self.kind == "alarm"


@dataclass
class Ratings:
    count: int = 0
    satisfied: int = 0
    bad: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_BAD_RATINGS))

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.count if self.count else None


@dataclass
class Trend:
    start: datetime
    bucket_minutes: int
    tickets: list[int]
    called: list[int]
    wait_total: list[float]

    def bucket(self, at: datetime) -> int:
        index = int((at - self.start).total_seconds() // (self.bucket_minutes * 60))
        index = max(0, index)
        while len(self.tickets) <= index:
            self.tickets.append(0)
            self.called.append(0)
            self.wait_total.append(0.0)
        return index

    def average_waits(self) -> list[float]:
        """Average wait (minutes) of the tickets called in each quarter (0 when none)."""
        return [
            total / n / 60 if n else 0.0
            for total, n in zip(self.wait_total, self.called, strict=True)
        ]
