"""Provides `WorkList`: the window's waiting tickets and open online cases as keyed rows.

Textual-free: it is loaded from API answers and kept current by folding events into it; the
screen's table diffs `ordered()` against what it shows and updates only the changed cells. Row
keys are stable (`t:<ticket id>`, `c:<case id>`), so the clerk's cursor survives updates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Literal

from api_client.models import Case, Event, Ticket

__all__ = ["WorkList", "WorkRow", "clock_status"]

FINISHED_TICKETS = frozenset({"done", "no_show"})
OPEN_CASES = frozenset({"submitted", "under_review", "supplement_requested", "accepted"})
ACTIVE_ORDER = {"serving": 0, "called": 1, "parked": 2, "waiting": 3}
DUE_SOON_DAYS = 2

RowKind = Literal["ticket", "case"]


@dataclass(frozen=True)
class WorkRow:
    """One line of the work list."""

    key: str
    kind: RowKind
    id: int
    number: str
    status: str
    channel: str
    service_item: str
    priority: str | None
    priority_weight: int
    since: datetime | None
    clock: str | None
    window: str | None
    target_window: str | None
    assignee: str | None
    version: int

    @classmethod
    def from_ticket(cls, ticket: Ticket) -> WorkRow:
        channel = (
            "walk_in" if ticket.walk_in else ("appointment" if ticket.appointment_at else "hall")
        )
        return cls(
            key=f"t:{ticket.id}",
            kind="ticket",
            id=ticket.id,
            number=ticket.number,
            status=ticket.status,
            channel=channel,
            service_item=ticket.service_item,
            priority=ticket.priority_class,
            priority_weight=ticket.priority_weight,
            since=ticket.issued_at,
            clock=None,
            window=ticket.window,
            target_window=ticket.target_window,
            assignee=None,
            version=ticket.version,
        )

    @classmethod
    def from_case(cls, case: Case, today: date | None = None) -> WorkRow:
        limit = case.time_limit
        clock = limit.status if limit is not None else None
        return cls(
            key=f"c:{case.id}",
            kind="case",
            id=case.id,
            number=case.number,
            status=case.status,
            channel=case.channel,
            service_item=case.service_item,
            priority=None,
            priority_weight=0,
            since=case.submitted_at,
            clock=clock,
            window=None,
            target_window=None,
            assignee=case.assignee,
            version=case.version,
        )


def clock_status(deadline: date | None, today: date) -> str | None:
    """on_track / due_soon / overdue for a promised completion date (calendar-day estimate)."""
    if deadline is None:
        return None
    days = (deadline - today).days
    if days < 0:
        return "overdue"
    return "due_soon" if days <= DUE_SOON_DAYS else "on_track"


def _sort_key(row: WorkRow) -> tuple[int, int, int, float, int]:
    since = row.since.timestamp() if row.since is not None else 0.0
    if row.kind == "ticket":
        return (0, ACTIVE_ORDER.get(row.status, 9), -row.priority_weight, since, row.id)
    clock_rank = {"overdue": 0, "due_soon": 1, "on_track": 2}.get(row.clock or "", 3)
    return (1, clock_rank, 0, since, row.id)


class WorkList:
    """The rows of one window's work list, keyed by `WorkRow.key`."""

    def __init__(self, window: str | None = None, service_items: Iterable[str] = ()) -> None:
        self.window = window
        self.service_items = frozenset(service_items)
        self.username: str | None = None
        self.rows: dict[str, WorkRow] = {}
        self.version = 0

    def configure(self, *, window: str | None, username: str | None, items: Iterable[str]) -> None:
        self.window = window
        self.username = username
        self.service_items = frozenset(items)

    def load(self, tickets: Iterable[Ticket], cases: Iterable[Case]) -> None:
        rows = [WorkRow.from_ticket(t) for t in tickets] + [WorkRow.from_case(c) for c in cases]
        self.rows = {row.key: row for row in rows if self._belongs(row)}
        self.version += 1

    def ordered(self) -> list[WorkRow]:
        return sorted(self.rows.values(), key=_sort_key)

    def get(self, key: str) -> WorkRow | None:
        return self.rows.get(key)

    def put_ticket(self, ticket: Ticket) -> bool:
        return self._put(WorkRow.from_ticket(ticket))

    def put_case(self, case: Case) -> bool:
        return self._put(WorkRow.from_case(case))

    def _put(self, row: WorkRow) -> bool:
        old = self.rows.get(row.key)
        if old is not None and old.version > row.version:
            return False
        if not self._belongs(row):
            return self.rows.pop(row.key, None) is not None and self._bump()
        if old == row:
            return False
        self.rows[row.key] = row
        return self._bump()

    def _bump(self) -> bool:
        self.version += 1
        return True

    def _belongs(self, row: WorkRow) -> bool:
        if row.kind == "case":
            if row.status not in OPEN_CASES:
                return False
            if row.assignee is None:
                # only what this window could claim (claim-next serves the window's items)
                return (
                    row.status == "submitted"
                    and row.channel == "online"
                    and (not self.service_items or row.service_item in self.service_items)
                )
            return row.assignee == self.username
        if row.status in FINISHED_TICKETS or self.window is None:
            return False
        if row.window == self.window or row.target_window == self.window:
            return True
        return (
            row.status == "waiting"
            and row.target_window is None
            and (not self.service_items or row.service_item in self.service_items)
        )

    # -- events --------------------------------------------------------------------------

    def apply_event(self, event: Event, today: date | None = None) -> bool:
        """Fold one event in; True when a row was added, changed or removed."""
        if not event.subject_id.isdigit():
            return False
        if event.subject_type == "ticket":
            return self._ticket_event(event)
        if event.subject_type == "case":
            return self._case_event(event, today or datetime.now(UTC).date())
        return False

    def _ticket_event(self, event: Event) -> bool:
        p = event.payload
        key = f"t:{event.subject_id}"
        old = self.rows.get(key)
        priority = p.get("priority_class")
        row = WorkRow(
            key=key,
            kind="ticket",
            id=int(event.subject_id),
            number=str(p.get("number", old.number if old else "")),
            status=str(p.get("status", old.status if old else "")),
            channel="walk_in"
            if event.type == "ticket.walk_in"
            else (old.channel if old else "hall"),
            service_item=str(p.get("service_item", old.service_item if old else "")),
            priority=priority,
            priority_weight=old.priority_weight if old else (1 if priority else 0),
            since=old.since if old else event.at,
            clock=None,
            window=p.get("window"),
            target_window=p.get("target_window"),
            assignee=None,
            version=int(p.get("version", 0)),
        )
        return self._put(row)

    def _case_event(self, event: Event, today: date) -> bool:
        p = event.payload
        key = f"c:{event.subject_id}"
        old = self.rows.get(key)
        if old is None and event.type not in ("case.submitted", "case.claimed"):
            return False
        clock = old.clock if old else None
        if "deadline" in p:
            try:
                clock = clock_status(date.fromisoformat(str(p["deadline"])[:10]), today)
            except ValueError:
                clock = None
        if p.get("clock") == "paused":
            clock = "paused"
        assignee = p.get("assignee", old.assignee if old else None)
        # a material's event carries the material's status, not the case's
        status = p.get("status") if "material" not in p else None
        row = WorkRow(
            key=key,
            kind="case",
            id=int(event.subject_id),
            number=str(p.get("number", old.number if old else "")),
            status=str(status or (old.status if old else "")),
            channel=str(p.get("channel", old.channel if old else "online")),
            service_item=str(p.get("service_item", old.service_item if old else "")),
            priority=None,
            priority_weight=0,
            since=old.since if old else event.at,
            clock=clock,
            window=None,
            target_window=None,
            assignee=assignee,
            version=int(p.get("version", 0)),
        )
        return self._put(replace(row))
