"""Provides the supervisor board's snapshot of the hall.

`board_snapshot` reads everything in one read transaction (SQLite: one WAL snapshot; PostgreSQL:
REPEATABLE READ), starting with the event chain's head, so the body is consistent with exactly
the events up to `seq` and a client continuing the stream from `seq` misses nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from api_client.models.board import QUARTER_HOUR_MINUTES
from api_client.models.tickets import AT_WINDOW_STATUSES
from backend.board.alarms import list_alarms
from backend.board.idle import WindowIdle, idle_replay
from backend.cases.time_limits import HallDay, due_soon_bound, hall_day_of
from backend.db.schema import (
    cases,
    chain_head,
    departments,
    ratings,
    service_items,
    tickets,
    users,
    windows,
)
from backend.hall.catalogue import hall_row, hall_rules, list_windows
from backend.hall.working_calendar import local_day

DEFAULT_WARNING_MINUTES = 15


DEFAULT_CRITICAL_MINUTES = 30


IN_PLAY = ("waiting", "called", "serving", "parked", "no_show")


SATISFIED_FROM = 3


BAD_UP_TO = 2


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
        "stranded": stranded(windows_body, in_play),
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
    held = {t["window"]: t for t in in_play if t["window"] and t["status"] in AT_WINDOW_STATUSES}
    replay = idle_replay(conn, hall_id, start)
    body = []
    for w in list_windows(conn, hall_id)["items"]:
        ticket = held.get(w["code"])
        activity = activity_of(w["state"], w["clerk"], ticket["status"] if ticket else None)
        idle = replay.windows.get(w["code"], WindowIdle())
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


def stranded(
    windows_body: list[dict[str, Any]], in_play: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Waiting tickets sent to a window nobody can call them at (closed, or no clerk)."""
    unstaffed = {w["code"] for w in windows_body if w["activity"] == "closed"}
    return [
        {
            "ticket_id": t["id"],
            "number": t["number"],
            "service_item": t["service_item"],
            "window": t["target_window"],
            "queued_at": t["queued_at"],
        }
        for t in in_play
        if t["status"] == "waiting" and t["target_window"] in unstaffed
    ]


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
