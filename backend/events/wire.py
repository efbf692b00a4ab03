"""Provides an event row as the API's streams and lists send it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from backend.db.schema import halls


def event_to_wire(row: Any, hall_codes: dict[int, str]) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "hall": hall_codes.get(row.hall_id) if row.hall_id is not None else None,
        "type": row.type,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "actor": row.actor,
        "at": row.at,
        "payload": json.loads(row.payload),
        "hash": row.hash,
    }


def hall_codes(conn: Connection) -> dict[int, str]:
    return {r.id: r.code for r in conn.execute(select(halls.c.id, halls.c.code))}
