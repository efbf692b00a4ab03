"""Provides a window's idle time today, which is not stored anywhere: it is replayed from today's
ticket, window and login events (`IdleReplay`). A window is idle while it is open, has its
clerk, and holds no ticket that is called or being served."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from backend.db.schema import events

LEGACY_CALL_EVENT = "ticket.call"
"""What calling a chosen ticket was logged as before every call became `ticket.called`: the log
is append-only, so today's replay may still meet it on the day of an upgrade."""

IDLE_EVENTS = (
    "user.logged_in",
    "user.logged_out",
    "window.paused",
    "window.resumed",
    "window.closed",
    "window.opened",
    "ticket.called",
    LEGACY_CALL_EVENT,
    "ticket.walk_in",
    "ticket.resume",
    "ticket.finish",
    "ticket.no_show",
    "ticket.park",
    "ticket.transfer",
)


@dataclass
class WindowIdle:
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

    windows: dict[str, WindowIdle] = field(default_factory=dict)
    ticket_window: dict[int, str] = field(default_factory=dict)
    user_window: dict[str, str] = field(default_factory=dict)

    def window(self, code: str) -> WindowIdle:
        return self.windows.setdefault(code, WindowIdle())

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
        elif kind in ("ticket.called", LEGACY_CALL_EVENT, "ticket.walk_in", "ticket.resume"):
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


def idle_replay(conn: Connection, hall_id: int, start: datetime) -> IdleReplay:
    replay = IdleReplay()
    rows = conn.execute(
        select(events.c.type, events.c.subject_id, events.c.payload, events.c.at)
        .where(events.c.hall_id == hall_id, events.c.at >= start, events.c.type.in_(IDLE_EVENTS))
        .order_by(events.c.seq)
    )
    for row in rows:
        replay.apply(row.type, row.subject_id, json.loads(row.payload), row.at)
    return replay
