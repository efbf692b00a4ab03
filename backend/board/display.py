"""Provides what the hall's call display may read: the latest calls, the windows, the waiting
counts, and the ticket events reduced to numbers and codes.

The display faces the public, so nothing here selects an applicant, a clerk or a free-text note:
the queries name their columns, and `display_event` keeps only number, window and service item
of an event's payload (a ticket action's payload may carry the clerk's note).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select

from backend.auth.sessions import Principal
from backend.db.schema import chain_head, events, halls, service_items, tickets, windows
from backend.hall.catalogue import hall_row, hall_rules
from backend.hall.working_calendar import local_day
from backend.problems import NotFound

__all__ = ["DISPLAY_PAYLOAD", "display_board", "display_events", "display_hall"]

DISPLAY_PAYLOAD = ("number", "window", "service_item")
"""The only payload fields of a ticket event the display stream passes on."""

_announced = func.coalesce(tickets.c.recalled_at, tickets.c.called_at)

_CALLS = (
    select(
        tickets.c.id,
        tickets.c.number,
        tickets.c.recalled_at,
        tickets.c.recall_count,
        _announced.label("announced_at"),
        windows.c.code.label("window"),
        windows.c.number.label("window_number"),
        service_items.c.code.label("service_item"),
    )
    .join(windows, windows.c.id == tickets.c.window_id)
    .join(service_items, service_items.c.id == tickets.c.service_item_id)
    .where(
        tickets.c.hall_id == bindparam("hall_id"),
        tickets.c.day == bindparam("day"),
        tickets.c.called_at.is_not(None),
        tickets.c.walk_in.is_(False),
    )
    .order_by(_announced.desc(), tickets.c.id.desc())
    .limit(bindparam("limit"))
)

_WAITING = (
    select(
        service_items.c.code,
        service_items.c.name,
        service_items.c.name_en,
        service_items.c.ticket_prefix,
        func.count(tickets.c.id).label("waiting"),
    )
    .select_from(service_items)
    .outerjoin(
        tickets,
        and_(
            tickets.c.service_item_id == service_items.c.id,
            tickets.c.status == "waiting",
            tickets.c.day == bindparam("day"),
        ),
    )
    .where(service_items.c.hall_id == bindparam("hall_id"))
    .group_by(
        service_items.c.id,
        service_items.c.code,
        service_items.c.name,
        service_items.c.name_en,
        service_items.c.ticket_prefix,
    )
    .order_by(service_items.c.code)
)

_WINDOWS = (
    select(windows.c.code, windows.c.number, windows.c.name, windows.c.name_en)
    .where(windows.c.hall_id == bindparam("hall_id"))
    .order_by(windows.c.number, windows.c.code)
)

_EVENTS = (
    select(events.c.seq, events.c.type, events.c.subject_id, events.c.at, events.c.payload)
    .where(
        events.c.hall_id == bindparam("hall_id"),
        events.c.seq > bindparam("after"),
        events.c.subject_type == "ticket",
    )
    .order_by(events.c.seq)
    .limit(bindparam("limit"))
)


def display_hall(conn: Connection, principal: Principal, code: str | None) -> int:
    """The hall the caller's display shows: its own, or (admins only) the one named."""
    if code is None or code == principal.hall_code:
        return principal.hall_id
    hall_id = conn.execute(select(halls.c.id).where(halls.c.code == code)).scalar()
    if hall_id is None:
        raise NotFound(f"There is no hall {code!r}.")
    principal.require_hall(int(hall_id))
    return int(hall_id)


def display_board(conn: Connection, hall_id: int, now: datetime, limit: int) -> dict[str, Any]:
    """The snapshot: the hall, today's latest calls, the waiting counts and the windows."""
    hall = hall_row(conn, hall_id)
    timezone = hall_rules(conn, hall_id)["timezone"]
    day = local_day(now, timezone)
    seq = int(conn.execute(select(chain_head.c.seq).where(chain_head.c.id == 1)).scalar() or 0)
    calls = [
        {
            "ticket": row.number,
            "ticket_id": row.id,
            "window": row.window,
            "window_number": row.window_number,
            "service_item": row.service_item,
            "announced_at": row.announced_at,
            "recall": row.recalled_at is not None and row.recalled_at == row.announced_at,
            "recall_count": row.recall_count,
        }
        for row in conn.execute(_CALLS, {"hall_id": hall_id, "day": day, "limit": limit})
    ]
    queues = [
        {
            "service_item": row.code,
            "name": row.name,
            "name_en": row.name_en,
            "ticket_prefix": row.ticket_prefix,
            "waiting": int(row.waiting),
        }
        for row in conn.execute(_WAITING, {"hall_id": hall_id, "day": day})
    ]
    hall_windows = [
        {"code": row.code, "number": row.number, "name": row.name, "name_en": row.name_en}
        for row in conn.execute(_WINDOWS, {"hall_id": hall_id})
    ]
    return {
        "hall": hall.code,
        "hall_name": hall.name,
        "hall_name_en": hall.name_en,
        "timezone": timezone,
        "seq": seq,
        "calls": calls,
        "queues": queues,
        "windows": hall_windows,
    }


def display_events(
    conn: Connection, hall_id: int, hall_code: str, after: int, limit: int
) -> list[dict[str, Any]]:
    """The hall's ticket events after `after`, in the `Event` shape, reduced for the display."""
    rows = conn.execute(_EVENTS, {"hall_id": hall_id, "after": after, "limit": limit})
    return [display_event(row, hall_code) for row in rows]


def display_event(row: Any, hall_code: str) -> dict[str, Any]:
    payload = json.loads(row.payload)
    return {
        "seq": row.seq,
        "hall": hall_code,
        "type": row.type,
        "subject_type": "ticket",
        "subject_id": row.subject_id,
        "actor": None,
        "at": row.at,
        "payload": {name: payload.get(name) for name in DISPLAY_PAYLOAD},
        "hash": "",
    }
