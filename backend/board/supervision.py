"""Provides the supervisor's actions: closing and opening a window, and giving a case to another
clerk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from backend.auth.sessions import Principal
from backend.cases.merge_links import refuse_merged
from backend.cases.records import case_row, load_case, lock_case
from backend.db.event_log import append_event
from backend.db.schema import cases, users
from backend.hall.catalogue import window_by_code
from backend.hall.window_states import write_window_state
from backend.problems import (
    InvalidInput,
    InvalidTransition,
    PreconditionFailed,
    PreconditionRequired,
)

REASSIGNABLE = ("submitted", "under_review", "supplement_requested", "accepted")

# events that move a window between idle and busy


# -- idle time ------------------------------------------------------------------------------------


# -- the snapshot ---------------------------------------------------------------------------------


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
    event_type = "window.closed" if target == "closed" else "window.opened"
    return write_window_state(
        conn, principal, window, code, target=target, reason=reason, event_type=event_type, now=now
    )


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
