"""Provides who may read a document back: the staff of a hall holding a case that refers to it
(a clerk only for cases they hold or held; supervisors and admins of that hall). Every read is
an audited event. A document no readable case refers to does not exist for the reader (404)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from backend.auth.sessions import Principal
from backend.db.event_log import append_event
from backend.db.schema import case_materials, cases, events
from backend.documents.store import StoredDocument, find_document
from backend.problems import NotFound

READERS = ("clerk", "supervisor", "admin")


def _referring_cases(conn: Connection, principal: Principal, sha256: str) -> list[Any]:
    return list(
        conn.execute(
            select(cases.c.id, cases.c.number, cases.c.hall_id, cases.c.assignee_id)
            .join(case_materials, case_materials.c.case_id == cases.c.id)
            .where(case_materials.c.sha256 == sha256, cases.c.hall_id == principal.hall_id)
            .distinct()
            .order_by(cases.c.id)
        )
    )


def _held(conn: Connection, principal: Principal, case_id: int) -> bool:
    """The clerk holds the case or held it once (an event of the case names them assignee)."""
    payloads = conn.execute(
        select(events.c.payload).where(
            events.c.subject_type == "case", events.c.subject_id == str(case_id)
        )
    ).scalars()
    for payload in payloads:
        try:
            if json.loads(payload).get("assignee") == principal.username:
                return True
        except (ValueError, AttributeError):
            continue
    return False


def open_for_reading(
    conn: Connection, principal: Principal, sha256: str, now: datetime
) -> StoredDocument:
    """The document, if the caller may read it (the read becomes an event of the case)."""
    principal.require(*READERS)
    readable = next(
        (
            case
            for case in _referring_cases(conn, principal, sha256)
            if principal.role != "clerk"
            or case.assignee_id == principal.user_id
            or _held(conn, principal, case.id)
        ),
        None,
    )
    document = find_document(conn, sha256) if readable is not None else None
    if readable is None or document is None:
        raise NotFound("There is no such document in a case you may read.")
    append_event(
        conn,
        hall_id=readable.hall_id,
        type="document.viewed",
        subject_type="case",
        subject_id=readable.id,
        actor=principal.actor,
        at=now,
        payload={"number": readable.number, "document": sha256},
    )
    return document
