"""Provides the supervisor board: the hall's snapshot, and the supervisor's window and case actions.

`board_snapshot` reads everything in one read transaction (SQLite: one WAL snapshot; PostgreSQL:
REPEATABLE READ), starting with the event chain's head, so the body is consistent with exactly
the events up to `seq` and a client continuing the stream from `seq` misses nothing.

A window's idle time today is not stored anywhere: it is replayed from today's ticket, window
and login events (`IdleReplay`). A window is idle while it is open, has its clerk, and holds no
ticket that is called or being served.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select, update

from api_client.models.board import QUARTER_HOUR_MINUTES
from backend.auth.sessions import Principal
from backend.board.alarms import list_alarms
from backend.cases.merge_links import refuse_merged
from backend.cases.records import case_row, load_case, lock_case
from backend.cases.time_limits import HallDay, due_soon_bound, hall_day_of
from backend.db.event_log import append_event
from backend.db.schema import (
    cases,
    chain_head,
    departments,
    events,
    ratings,
    service_items,
    tickets,
    users,
    windows,
)
from backend.hall.catalogue import hall_row, hall_rules, list_windows, window_by_code
from backend.hall.working_calendar import local_day
from backend.problems import (
    InvalidInput,
    InvalidTransition,
    PreconditionFailed,
    PreconditionRequired,
)

DEFAULT_WARNING_MINUTES = 15
DEFAULT_CRITICAL_MINUTES = 30
IN_PLAY = ("waiting", "called", "serving", "parked", "no_show")
REASSIGNABLE = ("submitted", "under_review", "supplement_requested", "accepted")
SATISFIED_FROM = 3
BAD_UP_TO = 2

# events that move a window between idle and busy
IDLE_EVENTS = (
    "user.logged_in",
    "user.logged_out",
    "window.paused",
    "window.resumed",
    "window.closed",
    "window.opened",
    "ticket.called",
    "ticket.call",
    "ticket.walk_in",
    "ticket.resume",
    "ticket.finish",
    "ticket.no_show",
    "ticket.park",
    "ticket.transfer",
)


# -- idle time ------------------------------------------------------------------------------------


@dataclass
class _WindowIdle:
    present: bool = False
    open: bool = True
    holding: set[int] = field(default_factory=set)
    seconds: float = 0.0
    since: datetime | None = None

    def settle(self, at: datetime) -> None:
        idle = self.present and self.open and not self.holding
        if idle and self.since is None:
            self.since = at
        elif not idle and self.since is not None:
            self.seconds += max(0.0, (at - self.since).total_seconds())
            self.since = None


@dataclass
class IdleReplay:
    """Folds today's events into each window's idle seconds and current idle start."""

    windows: dict[str, _WindowIdle] = field(default_factory=dict)
    ticket_window: dict[int, str] = field(default_factory=dict)
    user_window: dict[str, str] = field(default_factory=dict)

    def window(self, code: str) -> _WindowIdle:
        return self.windows.setdefault(code, _WindowIdle())

    def apply(self, kind: str, subject_id: str, payload: dict[str, Any], at: datetime) -> None:
        code = self._window_of(kind, subject_id, payload)
        if code is None:
            return
        w = self.window(code)
        if kind == "user.logged_in":
            self.user_window[subject_id] = code
            w.present = True
        elif kind == "user.logged_out":
            w.present = False
        elif kind in ("window.paused", "window.closed"):
            w.open = False
        elif kind in ("window.resumed", "window.opened"):
            w.open = True
        elif kind in ("ticket.called", "ticket.call", "ticket.walk_in", "ticket.resume"):
            w.present = True  # a clerk acts here, whatever logged in before today
            w.holding.add(int(subject_id))
            self.ticket_window[int(subject_id)] = code
        else:  # finish, no-show, park, transfer: the window lets the ticket go
            w.holding.discard(int(subject_id))
            self.ticket_window.pop(int(subject_id), None)
        w.settle(at)

    def _window_of(self, kind: str, subject_id: str, payload: dict[str, Any]) -> str | None:
        if kind == "user.logged_in":
            return payload.get("window") or None
        if kind == "user.logged_out":
            return self.user_window.pop(subject_id, None)
        if kind.startswith("window."):
            return subject_id
        held = self.ticket_window.get(int(subject_id)) if subject_id.isdigit() else None
        return held or payload.get("window") or None


# -- the snapshot ---------------------------------------------------------------------------------


def day_start(day: date, timezone: str) -> datetime:
    """The hall's local midnight of `day`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def quarter_of(at: datetime, start: datetime) -> int:
    return max(0, int((at - start).total_seconds() // (QUARTER_HOUR_MINUTES * 60)))


def wait_level(longest_seconds: float, warning: int, critical: int) -> str:
    if longest_seconds >= critical * 60:
        return "critical"
    if longest_seconds >= warning * 60:
        return "warning"
    return "ok"


def _thresholds(details: dict[str, Any] | None, rules: dict[str, Any]) -> tuple[int, int]:
    details = details or {}
    warning = int(
        details.get("wait_warning_minutes")
        or rules.get("wait_warning_minutes")
        or DEFAULT_WARNING_MINUTES
    )
    critical = int(
        details.get("wait_critical_minutes")
        or rules.get("wait_critical_minutes")
        or DEFAULT_CRITICAL_MINUTES
    )
    return warning, max(critical, warning + 1)


def board_snapshot(conn: Connection, hall_id: int, now: datetime) -> dict[str, Any]:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    seq = int(conn.execute(select(chain_head.c.seq).where(chain_head.c.id == 1)).scalar() or 0)
    hall = hall_row(conn, hall_id)
    rules = hall_rules(conn, hall_id)
    timezone = str(rules.get("timezone") or hall.timezone)
    day = local_day(now, timezone)
    start = day_start(day, timezone)
    in_play = _tickets_in_play(conn, hall_id, day)
    windows_body = _windows(conn, hall_id, day, start, now, in_play)
    queues = _queues(conn, hall_id, day, now, in_play, rules)
    hall_day = hall_day_of(conn, hall_id, now)
    warning, critical = _thresholds(None, rules)
    return {
        "hall": hall.code,
        "timezone": timezone,
        "day": day,
        "generated_at": now,
        "seq": seq,
        "due_soon_before": due_soon_bound(hall_day.today, hall_day.due_soon_days),
        "wait_warning_minutes": warning,
        "wait_critical_minutes": critical,
        "windows": windows_body,
        "tickets": in_play,
        "queues": queues,
        "cases": _cases_near_deadline(conn, hall_id, hall_day),
        "alarms": list_alarms(conn, hall_id, True),
        "ratings": _ratings(conn, hall_id, start),
        "trend": _trend(conn, hall_id, day, start, now),
    }


def _tickets_in_play(conn: Connection, hall_id: int, day: date) -> list[dict[str, Any]]:
    holding = windows.alias("holding")
    target = windows.alias("target")
    rows = conn.execute(
        select(
            tickets.c.id,
            tickets.c.number,
            tickets.c.status,
            tickets.c.queued_at,
            tickets.c.called_at,
            tickets.c.version,
            service_items.c.code.label("item"),
            holding.c.code.label("window"),
            target.c.code.label("target"),
        )
        .join(service_items, service_items.c.id == tickets.c.service_item_id)
        .outerjoin(holding, holding.c.id == tickets.c.window_id)
        .outerjoin(target, target.c.id == tickets.c.target_window_id)
        .where(tickets.c.hall_id == hall_id, tickets.c.day == day, tickets.c.status.in_(IN_PLAY))
        .order_by(tickets.c.id)
    )
    return [
        {
            "id": r.id,
            "number": r.number,
            "service_item": r.item,
            "status": r.status,
            "window": r.window,
            "target_window": r.target,
            "queued_at": r.queued_at,
            "called_at": r.called_at,
            "version": r.version,
        }
        for r in rows
    ]


def _done_counts(conn: Connection, hall_id: int, day: date, column: Any, status: str) -> Any:
    return {
        key: int(count)
        for key, count in conn.execute(
            select(column, func.count())
            .select_from(tickets)
            .where(tickets.c.hall_id == hall_id, tickets.c.day == day, tickets.c.status == status)
            .group_by(column)
        )
    }


def _idle_replay(conn: Connection, hall_id: int, start: datetime) -> IdleReplay:
    replay = IdleReplay()
    rows = conn.execute(
        select(events.c.type, events.c.subject_id, events.c.payload, events.c.at)
        .where(events.c.hall_id == hall_id, events.c.at >= start, events.c.type.in_(IDLE_EVENTS))
        .order_by(events.c.seq)
    )
    for row in rows:
        replay.apply(row.type, row.subject_id, json.loads(row.payload), row.at)
    return replay


def _windows(
    conn: Connection,
    hall_id: int,
    day: date,
    start: datetime,
    now: datetime,
    in_play: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    served = _done_counts(conn, hall_id, day, tickets.c.window_id, "done")
    ids = {
        r.code: r.id
        for r in conn.execute(
            select(windows.c.code, windows.c.id).where(windows.c.hall_id == hall_id)
        )
    }
    held = {t["window"]: t for t in in_play if t["window"] and t["status"] in ("called", "serving")}
    replay = _idle_replay(conn, hall_id, start)
    body = []
    for w in list_windows(conn, hall_id)["items"]:
        ticket = held.get(w["code"])
        activity = activity_of(w["state"], w["clerk"], ticket["status"] if ticket else None)
        idle = replay.windows.get(w["code"], _WindowIdle())
        seconds, since = idle.seconds, idle.since
        if activity != "idle" and since is not None:
            seconds += max(0.0, (now - since).total_seconds())
            since = None
        elif activity == "idle" and since is None:
            since = now
        body.append(
            {
                **{k: w[k] for k in ("code", "number", "name", "name_en", "service_items")},
                "clerk": w["clerk"],
                "state": w["state"],
                "activity": activity,
                "pause_reason": w["pause_reason"],
                "ticket_id": ticket["id"] if ticket else None,
                "ticket": ticket["number"] if ticket else None,
                "since": ticket["called_at"] if ticket else None,
                "served_today": served.get(ids.get(w["code"]), 0),
                "idle_seconds": seconds,
                "idle_since": since,
                "version": w["version"],
            }
        )
    return body


def activity_of(state: str, clerk: str | None, held_status: str | None) -> str:
    """What a window is doing: closed, paused, calling, serving or idle."""
    if state == "closed" or clerk is None:
        return "closed"
    if state == "paused":
        return "paused"
    if held_status == "called":
        return "calling"
    if held_status == "serving":
        return "serving"
    return "idle"


def _queues(
    conn: Connection,
    hall_id: int,
    day: date,
    now: datetime,
    in_play: list[dict[str, Any]],
    rules: dict[str, Any],
) -> list[dict[str, Any]]:
    served = _done_counts(conn, hall_id, day, tickets.c.service_item_id, "done")
    no_shows = _done_counts(conn, hall_id, day, tickets.c.service_item_id, "no_show")
    waits: dict[str, list[float]] = {}
    for t in in_play:
        if t["status"] == "waiting":
            waits.setdefault(t["service_item"], []).append((now - t["queued_at"]).total_seconds())
    rows = conn.execute(
        select(service_items, departments.c.code.label("dept"))
        .join(departments, departments.c.id == service_items.c.department_id)
        .where(service_items.c.hall_id == hall_id)
        .order_by(service_items.c.code)
    )
    body = []
    for r in rows:
        warning, critical = _thresholds(r.details, rules)
        item_waits = waits.get(r.code, [])
        longest = max(item_waits, default=0.0)
        body.append(
            {
                "service_item": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "department": r.dept,
                "waiting": len(item_waits),
                "longest_wait_seconds": longest,
                "average_wait_seconds": sum(item_waits) / len(item_waits) if item_waits else 0.0,
                "served_today": served.get(r.id, 0),
                "no_shows_today": no_shows.get(r.id, 0),
                "warning_minutes": warning,
                "critical_minutes": critical,
                "level": wait_level(longest, warning, critical),
            }
        )
    return body


def _cases_near_deadline(conn: Connection, hall_id: int, day: HallDay) -> list[dict[str, Any]]:
    bound = due_soon_bound(day.today, day.due_soon_days)
    rows = conn.execute(
        select(
            cases.c.id,
            cases.c.number,
            cases.c.status,
            cases.c.deadline_on,
            cases.c.version,
            service_items.c.code.label("item"),
            departments.c.code.label("dept"),
            departments.c.name.label("dept_name"),
            departments.c.name_en.label("dept_name_en"),
            users.c.username,
        )
        .join(service_items, service_items.c.id == cases.c.service_item_id)
        .join(departments, departments.c.id == service_items.c.department_id)
        .outerjoin(users, users.c.id == cases.c.assignee_id)
        .where(
            cases.c.hall_id == hall_id,
            cases.c.clock_state == "running",
            cases.c.deadline_on < bound,
        )
        .order_by(cases.c.deadline_on, cases.c.id)
        .limit(500)
    )
    return [
        {
            "id": r.id,
            "number": r.number,
            "service_item": r.item,
            "department": r.dept,
            "department_name": r.dept_name,
            "department_name_en": r.dept_name_en,
            "assignee": r.username,
            "status": r.status,
            "deadline": r.deadline_on,
            "clock": "overdue" if r.deadline_on < day.today else "due_soon",
            "version": r.version,
        }
        for r in rows
    ]


def _ratings(conn: Connection, hall_id: int, start: datetime) -> dict[str, Any]:
    rows = conn.execute(
        select(
            ratings.c.id,
            ratings.c.score,
            ratings.c.subject_label,
            ratings.c.clerk,
            ratings.c.submitted_at,
        )
        .where(ratings.c.hall_id == hall_id, ratings.c.submitted_at >= start)
        .order_by(ratings.c.id.desc())
    ).all()
    satisfied = sum(1 for r in rows if r.score >= SATISFIED_FROM)
    return {
        "count": len(rows),
        "satisfied": satisfied,
        "satisfaction_rate": satisfied / len(rows) if rows else None,
        "bad": [
            {
                "id": r.id,
                "score": r.score,
                "subject": r.subject_label,
                "clerk": r.clerk,
                "at": r.submitted_at,
            }
            for r in rows
            if r.score <= BAD_UP_TO
        ][:100],
    }


def _trend(
    conn: Connection, hall_id: int, day: date, start: datetime, now: datetime
) -> dict[str, Any]:
    size = quarter_of(now, start) + 1
    issued, called, waited = [0] * size, [0] * size, [0.0] * size
    rows = conn.execute(
        select(tickets.c.issued_at, tickets.c.queued_at, tickets.c.called_at).where(
            tickets.c.hall_id == hall_id, tickets.c.day == day, tickets.c.walk_in.is_(False)
        )
    )
    for r in rows:
        issued[min(size - 1, quarter_of(r.issued_at, start))] += 1
        if r.called_at is not None:
            bucket = min(size - 1, quarter_of(r.called_at, start))
            called[bucket] += 1
            waited[bucket] += max(0.0, (r.called_at - r.queued_at).total_seconds())
    return {
        "start": start,
        "bucket_minutes": QUARTER_HOUR_MINUTES,
        "tickets": issued,
        "called": called,
        "wait_seconds_total": waited,
    }


# -- supervisor actions ---------------------------------------------------------------------------


def close_window(
    conn: Connection, principal: Principal, code: str, reason: str | None, now: datetime
) -> dict[str, Any]:
    return _set_state(conn, principal, code, ("open", "paused"), "closed", reason, now)


def open_window(conn: Connection, principal: Principal, code: str, now: datetime) -> dict[str, Any]:
    return _set_state(conn, principal, code, ("closed",), "open", None, now)


def _set_state(
    conn: Connection,
    principal: Principal,
    code: str,
    sources: tuple[str, ...],
    target: str,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    window = window_by_code(conn, principal.hall_id, code)
    if window.state not in sources:
        raise InvalidTransition(
            f"Window {code} is {window.state}.",
            current={"state": window.state, "version": window.version},
        )
    conn.execute(
        update(windows)
        .where(windows.c.id == window.id)
        .values(state=target, pause_reason=reason, version=windows.c.version + 1)
    )
    append_event(
        conn,
        hall_id=principal.hall_id,
        type="window.closed" if target == "closed" else "window.opened",
        subject_type="window",
        subject_id=code,
        actor=principal.actor,
        at=now,
        payload={"state": target, "reason": reason},
    )
    return next(w for w in list_windows(conn, principal.hall_id)["items"] if w["code"] == code)


def reassign_case(
    conn: Connection,
    principal: Principal,
    case_id: int,
    assignee: str,
    note: str | None,
    if_match: int | None,
    now: datetime,
) -> dict[str, Any]:
    lock_case(conn, case_id)
    row = case_row(conn, case_id)
    principal.require_hall(row.hall_id)
    refuse_merged(conn, row)
    if if_match is None:
        raise PreconditionRequired(
            f'Send If-Match with the case version you reassign (e.g. "{row.version}").'
        )
    if if_match != row.version:
        raise PreconditionFailed(
            f"Case {row.number} changed (version {row.version}, you sent {if_match}).",
            current=load_case(conn, case_id, now=now),
        )
    if row.status not in REASSIGNABLE:
        raise InvalidTransition(
            f"Case {row.number} is {row.status}; only an open case can be reassigned.",
            current={"status": row.status, "version": row.version},
        )
    clerk = conn.execute(
        select(users.c.id, users.c.username).where(
            users.c.hall_id == row.hall_id,
            users.c.username == assignee,
            users.c.role == "clerk",
            users.c.active.is_(True),
        )
    ).first()
    if clerk is None:
        raise InvalidInput(
            f"assignee: there is no active clerk {assignee!r} in this hall.",
            errors=[{"loc": ["body", "assignee"], "msg": "unknown clerk", "type": "unknown"}],
        )
    values: dict[str, Any] = {"assignee_id": clerk.id, "version": row.version + 1}
    if row.status == "submitted":
        values.update(status="under_review", claimed_at=now)
    conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
    case = load_case(conn, case_id, now=now)
    append_event(
        conn,
        hall_id=row.hall_id,
        type="case.reassigned",
        subject_type="case",
        subject_id=case_id,
        actor=principal.actor,
        at=now,
        payload={
            "number": case["number"],
            "status": case["status"],
            "service_item": case["service_item"],
            "assignee": clerk.username,
            "from": row.assignee_username,
            "note": note,
            "version": case["version"],
        },
    )
    return case
