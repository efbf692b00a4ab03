"""Provides changing a window's state (open, paused, closed) with its event, in the caller's
transaction: the clerk's pause and resume here, the supervisor's close and open in
`backend.board.supervision`, one write for all four."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from backend.auth.sessions import Principal
from backend.db.event_log import append_event
from backend.db.schema import windows
from backend.hall.catalogue import list_windows, window_by_code
from backend.problems import Forbidden, InvalidTransition

__all__ = ["pause_or_resume_window", "write_window_state"]


def write_window_state(
    conn: Connection,
    principal: Principal,
    window: Any,
    code: str,
    *,
    target: str,
    reason: str | None,
    event_type: str,
    now: datetime,
) -> dict[str, Any]:
    """Put `window` (its row) in `target` with its event; the window as the API shows it."""
    conn.execute(
        update(windows)
        .where(windows.c.id == window.id)
        .values(state=target, pause_reason=reason, version=windows.c.version + 1)
    )
    append_event(
        conn,
        hall_id=principal.hall_id,
        type=event_type,
        subject_type="window",
        subject_id=code,
        actor=principal.actor,
        at=now,
        payload={"state": target, "reason": reason},
    )
    return next(w for w in list_windows(conn, principal.hall_id)["items"] if w["code"] == code)


def pause_or_resume_window(
    conn: Connection,
    principal: Principal,
    code: str,
    new_state: str,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Pause an open window or resume a paused one (a clerk only their own)."""
    window = window_by_code(conn, principal.hall_id, code)
    if principal.role == "clerk" and window.id != principal.window_id:
        raise Forbidden(f"You are not logged in to window {code}.")
    expected = {"paused": "open", "open": "paused"}[new_state]
    if window.state != expected:
        raise InvalidTransition(
            f"Window {code} is {window.state}.", current={"state": window.state}
        )
    event_type = "window.paused" if new_state == "paused" else "window.resumed"
    return write_window_state(
        conn,
        principal,
        window,
        code,
        target=new_state,
        reason=reason,
        event_type=event_type,
        now=now,
    )
