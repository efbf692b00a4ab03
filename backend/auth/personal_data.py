"""Provides the audited reveal of an applicant's personal data (shown masked everywhere else)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from backend.auth.sessions import Principal
from backend.db.event_log import append_event
from backend.db.schema import applicants, cases, tickets
from backend.problems import NotFound


def reveal(
    conn: Connection, principal: Principal, subject_type: str, subject_id: int, now: datetime
) -> dict[str, Any]:
    """The applicant of a case or ticket, unmasked; the reveal itself becomes an event."""
    table = cases if subject_type == "case" else tickets
    row = conn.execute(
        select(table.c.hall_id, applicants.c.name, applicants.c.id_number, applicants.c.phone)
        .join(applicants, applicants.c.id == table.c.applicant_id)
        .where(table.c.id == subject_id)
    ).first()
    if row is None:
        raise NotFound(f"There is no {subject_type} {subject_id} with a known applicant.")
    principal.require_hall(row.hall_id)
    append_event(
        conn,
        hall_id=row.hall_id,
        type="personal_data.revealed",
        subject_type=subject_type,
        subject_id=subject_id,
        actor=principal.actor,
        at=now,
        payload={"fields": ["name", "id_number", "phone"]},
    )
    return {"name": row.name, "id_number": row.id_number, "phone": row.phone}
