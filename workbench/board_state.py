"""Provides `BoardState`: the supervisor board built from one snapshot, then kept current event by
event (no re-fetching), and the alerts derived from it.

`apply(event)` folds one event in O(1) (plus the size of one queue for a move) and marks which
sections changed in `dirty`; the screen repaints those sections on its own timer. `tick(now)`
derives the alerts that depend on the time passing or on several rows: waits over a queue's
thresholds, a window idle while its queues wait, cases becoming overdue, a ticket waiting for a
window where nobody can call it (closed, or nobody logged in: "stranded"). Events raise the
others at once: ratings of 1-2 and emergency alarms (which stay until a supervisor acknowledges
them on the server).

Textual-free, so it is unit-tested with real events from the real backend.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from api_client.models import Event
from api_client.models.board import Board
from api_client.models.tickets import AT_WINDOW_STATUSES
from workbench.board_rows import (
    BAD_UP_TO,
    CLOSED_CASE,
    IDLE_ALERT_SECONDS,
    MAX_ALERTS,
    MIN_TREND_QUARTERS,
    SATISFIED_FROM,
    SECTIONS,
    Alert,
    AlertKind,
    CaseRow,
    QueueRow,
    Ratings,
    Section,
    TicketRow,
    Trend,
    WindowRow,
)

__all__ = [
    "IDLE_ALERT_SECONDS",
    "Alert",
    "AlertKind",
    "BoardState",
    "CaseRow",
    "QueueRow",
    "TicketRow",
    "WindowRow",
]


class BoardState:
    """The board's data; `apply` events in sequence order after `from_board`."""

    def __init__(self, board: Board) -> None:
        self.hall = board.hall
        self.timezone = ZoneInfo(board.timezone)
        self.day = board.day
        self.seq = board.seq
        self.due_soon_before = board.due_soon_before
        self.tickets: dict[int, TicketRow] = {}
        self.windows: dict[str, WindowRow] = {}
        self.queues: dict[str, QueueRow] = {}
        self.cases: dict[int, CaseRow] = {}
        self.alarms: dict[int, dict[str, Any]] = {}
        self.alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)
        self._alert_keys: set[str] = set()
        self._alerted_levels: dict[str, str] = {}
        self._overdue_seen: set[int] = set()
        self._no_shows: set[int] = set()
        self._sent_to: dict[str, set[int]] = {}
        """Window code -> the waiting tickets sent to that window alone."""
        self.dirty: set[Section] = set(SECTIONS)
        self.events_applied = 0
        self.last_event_at: datetime | None = None
        self._load(board)

    @classmethod
    def from_board(cls, board: Board) -> BoardState:
        return cls(board)

    # -- loading ---------------------------------------------------------------------------

    def _load(self, board: Board) -> None:
        for q in board.queues:
            self.queues[q.service_item] = QueueRow(
                service_item=q.service_item,
                name=q.name,
                name_en=q.name_en,
                department=q.department,
                served_today=q.served_today,
                no_shows_today=q.no_shows_today,
                warning_minutes=q.warning_minutes,
                critical_minutes=q.critical_minutes,
            )
        for t in board.tickets:
            row = TicketRow(
                t.id, t.number, t.service_item, t.status, t.window, t.target_window, t.queued_at
            )
            row.called_at = t.called_at
            self.tickets[t.id] = row
            if t.status == "waiting":
                self._queue(t.service_item).join(t.id, t.queued_at)
                self._retarget(row, None)
            elif t.status == "no_show":
                self._no_shows.add(t.id)
        for w in board.windows:
            window = WindowRow(
                code=w.code,
                number=w.number,
                name=w.name,
                name_en=w.name_en,
                service_items=tuple(w.service_items),
                clerk=w.clerk,
                state=w.state,
                pause_reason=w.pause_reason,
                served_today=w.served_today,
                idle_seconds=w.idle_seconds,
                idle_since=w.idle_since,
            )
            if w.ticket_id is not None and w.ticket_id in self.tickets:
                window.ticket = self.tickets[w.ticket_id]
                window.holding.add(w.ticket_id)
            self.windows[w.code] = window
        for c in board.cases:
            self.cases[c.id] = CaseRow(
                c.id,
                c.number,
                c.service_item,
                c.department,
                c.department_name,
                c.department_name_en,
                c.assignee,
                c.status,
                c.deadline,
                c.version,
            )
            if c.clock == "overdue":
                self._overdue_seen.add(c.id)
        for alarm in reversed(board.alarms):
            self._alarm_raised(alarm.id, alarm.window, alarm.raised_by, alarm.raised_at, alarm.note)
        self.ratings = Ratings(board.ratings.count, board.ratings.satisfied)
        self.ratings.bad.extend(r.model_dump() for r in reversed(board.ratings.bad))
        self.ratings.bad.reverse()
        tr = board.trend
        self.trend = Trend(
            tr.start,
            tr.bucket_minutes,
            list(tr.tickets),
            list(tr.called),
            list(tr.wait_seconds_total),
        )

    def _queue(self, item: str) -> QueueRow:
        queue = self.queues.get(item)
        if queue is None:  # an item added after the snapshot
            queue = QueueRow(item, item, item, "", 0, 0, 15, 30)
            self.queues[item] = queue
        return queue

    # -- reading ---------------------------------------------------------------------------

    def today(self, now: datetime) -> date:
        return now.astimezone(self.timezone).date()

    def waiting_for(self, window: WindowRow) -> int:
        """Tickets waiting that this window may call (its items, or sent to it)."""
        count = sum(len(self.queues[i].waiting) for i in window.service_items if i in self.queues)
        return count + sum(
            1
            for t in self.tickets.values()
            if t.status == "waiting"
            and t.target_window == window.code
            and t.service_item not in window.service_items
        )

    @property
    def has_no_shows(self) -> bool:
        return bool(self._no_shows)

    def stranded(self) -> list[TicketRow]:
        """Waiting tickets sent to a window where nobody can call them (closed, or no clerk)."""
        rows = [
            self.tickets[ticket_id]
            for code, sent in self._sent_to.items()
            if code in self.windows and self.windows[code].activity == "closed"
            for ticket_id in sent
            if ticket_id in self.tickets
        ]
        return sorted(rows, key=lambda t: t.queued_at)

    def waiting_tickets(self, item: str | None = None) -> list[TicketRow]:
        rows = [
            t
            for t in self.tickets.values()
            if t.status == "waiting" and (item is None or t.service_item == item)
        ]
        return sorted(rows, key=lambda t: t.queued_at)

    def no_shows(self) -> list[TicketRow]:
        return [self.tickets[i] for i in self._no_shows if i in self.tickets]

    # -- events ----------------------------------------------------------------------------

    def apply(self, event: Event) -> bool:
        """Fold one event in; False when it was already in the snapshot or is not ours."""
        if event.seq <= self.seq:
            return False
        self.seq = event.seq
        self.events_applied += 1
        self.last_event_at = event.at
        kind = event.type
        if kind.startswith("ticket."):
            self._ticket_event(kind.removeprefix("ticket."), event)
        elif kind.startswith("window."):
            self._window_event(kind.removeprefix("window."), event)
        elif kind.startswith("case."):
            self._case_event(event)
        elif kind == "rating.submitted":
            self._rating(event)
        elif kind in ("user.logged_in", "user.logged_out"):
            self._login_event(kind, event)
        else:
            return False
        return True

    def _ticket_event(self, action: str, event: Event) -> None:
        p = event.payload
        ticket_id = int(event.subject_id)
        ticket = self.tickets.get(ticket_id)
        if action == "issued":
            ticket = TicketRow(
                ticket_id, str(p.get("number")), str(p.get("service_item")), "waiting", None,
                p.get("target_window"), event.at,
            )  # fmt: skip
            self.tickets[ticket_id] = ticket
            self._queue(ticket.service_item).join(ticket_id, event.at)
            self._retarget(ticket, None)
            self.trend.tickets[self.trend.bucket(event.at)] += 1
            self.dirty.update(("queues", "trend"))
            return
        if ticket is None:  # a walk-in, or a ticket of before the snapshot's day
            ticket = TicketRow(
                ticket_id, str(p.get("number")), str(p.get("service_item")), "waiting", None,
                None, event.at,
            )  # fmt: skip
            self.tickets[ticket_id] = ticket
        status = str(p.get("status", ticket.status))
        was_waiting = ticket.status == "waiting"
        if was_waiting:
            self._queue(ticket.service_item).leave(ticket_id)
        if action in ("called", "walk_in"):  # call next or a chosen ticket, or a walk-in
            if action != "walk_in":
                bucket = self.trend.bucket(event.at)
                self.trend.called[bucket] += 1
                wait = (event.at - ticket.queued_at).total_seconds()
                self.trend.wait_total[bucket] += max(0.0, wait)
                self.dirty.add("trend")
            ticket.called_at = event.at
        if action == "finish":
            self._queue(ticket.service_item).served_today += 1
        elif action == "no_show":
            self._queue(ticket.service_item).no_shows_today += 1
        elif action == "reactivate":
            queue = self._queue(ticket.service_item)
            queue.no_shows_today = max(0, queue.no_shows_today - 1)
        holder, sent_to = ticket.window, ticket.target_window
        ticket.status = status
        ticket.service_item = str(p.get("service_item") or ticket.service_item)
        ticket.window = p.get("window")
        ticket.target_window = p.get("target_window")
        if (holder is not None and holder != ticket.window) or action in (
            "finish",
            "no_show",
            "park",
        ):
            self._release(holder, ticket, event.at, finished=action == "finish")
        if status in AT_WINDOW_STATUSES and ticket.window is not None:
            self._hold(ticket.window, ticket, event.at)
        if status == "waiting":
            self._queue(ticket.service_item).join(ticket_id, ticket.queued_at)
        if status == "no_show":
            self._no_shows.add(ticket_id)
        else:
            self._no_shows.discard(ticket_id)
        self._retarget(ticket, sent_to)
        if status in ("done", "transferred"):
            del self.tickets[ticket_id]
        self.dirty.update(("queues", "windows"))

    def _retarget(self, ticket: TicketRow, sent_to: str | None) -> None:
        """Keep `_sent_to` current after the ticket (sent to `sent_to` before) changed."""
        if sent_to is not None:
            self._sent_to.get(sent_to, set()).discard(ticket.id)
        if ticket.status == "waiting" and ticket.target_window is not None:
            self._sent_to.setdefault(ticket.target_window, set()).add(ticket.id)

    def _hold(self, code: str, ticket: TicketRow, at: datetime) -> None:
        window = self.windows.get(code)
        if window is None:
            return
        window.holding.add(ticket.id)
        window.ticket = ticket
        if window.clerk is None:  # the clerk logged in before the snapshot's events
            window.clerk = "?"
        window.settle(at)

    def _release(
        self, code: str | None, ticket: TicketRow, at: datetime, *, finished: bool
    ) -> None:
        window = self.windows.get(code or "")
        if window is None:
            return
        window.holding.discard(ticket.id)
        if window.ticket is not None and window.ticket.id == ticket.id:
            window.ticket = None
        if finished:
            window.served_today += 1
        window.settle(at)

    def _window_event(self, action: str, event: Event) -> None:
        p = event.payload
        if action == "alarm_raised":
            self._alarm_raised(
                int(p["alarm"]), str(p.get("window")), event.actor or "?", event.at, p.get("note")
            )
            return
        if action == "alarm_acknowledged":
            self._alarm_acknowledged(int(p["alarm"]))
            return
        window = self.windows.get(event.subject_id)
        if window is None:
            return
        if action in ("paused", "resumed", "closed", "opened"):
            window.state = str(p.get("state", window.state))
            window.pause_reason = p.get("reason")
            window.settle(event.at)
            self.dirty.add("windows")

    def _login_event(self, kind: str, event: Event) -> None:
        if kind == "user.logged_in":
            window = self.windows.get(str(event.payload.get("window") or ""))
            if window is not None:
                window.clerk = event.subject_id
                window.settle(event.at)
                self.dirty.add("windows")
            return
        for window in self.windows.values():
            if window.clerk == event.subject_id:
                window.clerk = None
                window.settle(event.at)
                self.dirty.add("windows")

    def _alarm_raised(
        self, alarm_id: int, window: str, raised_by: str, at: datetime, note: str | None
    ) -> None:
        self.alarms[alarm_id] = {"id": alarm_id, "window": window, "by": raised_by, "at": at}
        self._alert(
            Alert(
                f"alarm:{alarm_id}",
                "alarm",
                at,
                window,
                {"by": raised_by, "note": note or ""},
                alarm_id=alarm_id,
            )
        )

    def _alarm_acknowledged(self, alarm_id: int) -> None:
        self.alarms.pop(alarm_id, None)
        self.dismiss(f"alarm:{alarm_id}", force=True)

    def _rating(self, event: Event) -> None:
        p = event.payload
        score = int(p.get("score", 0))
        self.ratings.count += 1
        self.ratings.satisfied += score >= SATISFIED_FROM
        if score <= BAD_UP_TO:
            row = {
                "id": int(event.subject_id),
                "score": score,
                "subject": str(p.get("subject", "")),
                "clerk": p.get("clerk"),
                "at": event.at,
            }
            self.ratings.bad.appendleft(row)
            self._alert(
                Alert(
                    f"rating:{event.subject_id}",
                    "bad_rating",
                    event.at,
                    str(p.get("subject", "")),
                    {"score": score, "clerk": p.get("clerk") or "-"},
                )
            )
        self.dirty.add("ratings")

    def _case_event(self, event: Event) -> None:
        p = event.payload
        case_id = int(event.subject_id)
        row = self.cases.get(case_id)
        status = str(p.get("status", row.status if row else ""))
        clock = p.get("clock")
        if status in CLOSED_CASE or clock in ("stopped", "paused"):
            if self.cases.pop(case_id, None) is not None:
                self.dirty.add("cases")
            return
        deadline = p.get("deadline")
        if row is None and deadline and date.fromisoformat(str(deadline)) < self.due_soon_before:
            item = str(p.get("service_item", ""))
            department = self.queues[item].department if item in self.queues else ""
            row = CaseRow(
                case_id, str(p.get("number", "")), item, department, department, department,
                p.get("assignee"), status, date.fromisoformat(str(deadline)),
                int(p.get("version", 0)),
            )  # fmt: skip
            self.cases[case_id] = row
        if row is None:
            return
        row.status = status
        row.version = int(p.get("version", row.version))
        if "assignee" in p:
            row.assignee = p.get("assignee")
        elif event.type == "case.transferred":
            row.assignee = None
        if deadline:
            row.deadline = date.fromisoformat(str(deadline))
        self.dirty.add("cases")

    # -- alerts ----------------------------------------------------------------------------

    def _alert(self, alert: Alert) -> None:
        if alert.key in self._alert_keys:
            return
        self._alert_keys.add(alert.key)
        self.alerts.appendleft(alert)
        self.dirty.add("alerts")

    def dismiss(self, key: str, *, force: bool = False) -> bool:
        """Take an alert off the feed (an alarm only with `force`: it goes when acknowledged)."""
        for alert in self.alerts:
            if alert.key == key and (force or not alert.emergency):
                self.alerts.remove(alert)
                self.dirty.add("alerts")
                return True
        return False

    def tick(self, now: datetime) -> None:
        """Derive the alerts that come with time or from several rows: long waits, idle
        windows, overdue cases, stranded tickets."""
        for queue in self.queues.values():
            level = queue.level(now)
            before = self._alerted_levels.get(queue.service_item, "ok")
            if level != before:
                self._alerted_levels[queue.service_item] = level
                self.dirty.add("queues")
            if level != "ok" and (before == "ok" or (before, level) == ("warning", "critical")):
                minutes = int(queue.longest_wait(now) // 60)
                self._alert(
                    Alert(
                        f"wait:{queue.service_item}:{level}:{now:%H%M%S}",
                        "wait_critical" if level == "critical" else "wait_warning",
                        now,
                        queue.service_item,
                        {"minutes": minutes, "waiting": len(queue.waiting)},
                    )
                )
        for window in self.windows.values():
            since = window.idle_since
            if since is None or window.activity != "idle":
                continue
            key = f"idle:{window.code}:{since.isoformat()}"
            if key in self._alert_keys or (now - since).total_seconds() < IDLE_ALERT_SECONDS:
                continue
            if self.waiting_for(window):
                self._alert(
                    Alert(
                        key,
                        "idle",
                        now,
                        window.code,
                        {"minutes": int((now - since).total_seconds() // 60)},
                    )
                )
        for ticket in self.stranded():
            self._alert(
                Alert(
                    f"stranded:{ticket.id}:{ticket.target_window}",
                    "stranded",
                    now,
                    ticket.number,
                    {"window": ticket.target_window or "-"},
                )
            )
        today = self.today(now)
        for case in self.cases.values():
            if case.deadline < today and case.id not in self._overdue_seen:
                self._overdue_seen.add(case.id)
                self.dirty.add("cases")
                self._alert(
                    Alert(
                        f"overdue:{case.id}",
                        "overdue",
                        now,
                        case.number,
                        {"assignee": case.assignee or "-", "deadline": case.deadline.isoformat()},
                    )
                )

    def take_dirty(self) -> set[Section]:
        dirty, self.dirty = self.dirty, set()
        return dirty

    def quarter_series(self, now: datetime) -> tuple[list[int], list[float]]:
        """Tickets per quarter hour and average wait (min) from the first busy quarter to now,
        and at least the last two hours (a series of one point would draw as one full bar)."""
        self.trend.bucket(now)
        tickets, waits = self.trend.tickets, self.trend.average_waits()
        first = next((i for i, n in enumerate(tickets) if n), len(tickets) - 1)
        first = min(first, max(0, len(tickets) - MIN_TREND_QUARTERS))
        return tickets[first:], waits[first:]
