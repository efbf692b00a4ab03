"""Provides issuing a ticket: the day's number per service item, the applicant, and how many wait
ahead."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from api_client.identity import parse_resident_id
from backend.db.engine import inserted_id
from backend.db.event_log import Actor, append_event
from backend.db.prepared import Prepared
from backend.db.schema import applicants, ticket_counters, tickets
from backend.hall.catalogue import hall_rules, priority_class_by_code, service_item_by_code
from backend.hall.working_calendar import local_day
from backend.queue.records import load_ticket, ticket_event_payload


def _counter_upsert(dialect_module: Any) -> Any:
    return (
        dialect_module.insert(ticket_counters)
        .values(service_item_id=bindparam("item_id"), day=bindparam("day"), last_seq=1)
        .on_conflict_do_update(
            index_elements=["service_item_id", "day"],
            set_={"last_seq": ticket_counters.c.last_seq + 1},
        )
        .returning(ticket_counters.c.last_seq)
    )


_COUNTER_UPSERT = {"postgresql": _counter_upsert(postgresql), "sqlite": _counter_upsert(sqlite)}


def _next_sequence(conn: Connection, service_item_id: int, day: Any) -> int:
    statement = _COUNTER_UPSERT[conn.dialect.name]
    return int(conn.execute(statement, {"item_id": service_item_id, "day": day}).scalar_one())


def _archive_earlier_days(conn: Connection, hall_id: int, day: Any) -> None:
    conn.execute(
        update(tickets)
        .where(tickets.c.hall_id == hall_id, tickets.c.day < day, tickets.c.archived.is_(False))
        .values(archived=True)
    )


def _ticket_number(prefix: str, seq: int) -> str:
    return f"{prefix}{seq:03d}"


_TICKET_INSERT = tickets.insert()


def issue_ticket(
    conn: Connection,
    *,
    hall_id: int,
    service_item: str,
    priority_class: str | None,
    applicant_id_number: str | None,
    appointment_at: datetime | None,
    now: datetime,
    actor: Actor,
    applicant_name: str | None = None,
    status: str = "waiting",
    window_id: int | None = None,
) -> dict[str, Any]:
    rules = hall_rules(conn, hall_id)
    item = service_item_by_code(conn, hall_id, service_item, field="service_item")
    weight, class_id = 0, None
    if priority_class:
        pc = priority_class_by_code(conn, hall_id, priority_class)
        weight, class_id = (0 if appointment_at else pc.weight), pc.id
    day = local_day(now, rules["timezone"])
    seq = _next_sequence(conn, item.id, day)
    if seq == 1:
        _archive_earlier_days(conn, hall_id, day)
    applicant_id = _applicant_id(conn, applicant_id_number, applicant_name)
    walk_in = status == "serving"
    row = {
        "hall_id": hall_id,
        "day": day,
        "number": _ticket_number(item.ticket_prefix, seq),
        "service_item_id": item.id,
        "priority_class_id": class_id,
        "priority_weight": weight,
        "applicant_id": applicant_id,
        "appointment_at": appointment_at,
        "status": status,
        "window_id": window_id,
        "walk_in": walk_in,
        "issued_at": now,
        "queued_at": now,
        "called_at": now if walk_in else None,
        "serving_started_at": now if walk_in else None,
    }
    ticket_id = inserted_id(conn.execute(_TICKET_INSERT, row))
    ticket = load_ticket(conn, int(ticket_id))
    append_event(
        conn,
        hall_id=hall_id,
        type="ticket.walk_in" if walk_in else "ticket.issued",
        subject_type="ticket",
        subject_id=ticket_id,
        actor=actor,
        at=now,
        payload=ticket_event_payload(ticket),
    )
    if not walk_in:
        ticket["waiting_ahead"] = _waiting_ahead(conn, hall_id, item.id, day, int(ticket_id))
    return ticket


def _applicant_id(conn: Connection, id_number: str | None, name: str | None) -> int | None:
    """The registered applicant with this ID number; registered now when the card gave a name."""
    if id_number is None:
        return None
    found = conn.execute(
        select(applicants.c.id).where(applicants.c.id_number == id_number)
    ).scalar()
    if found is not None or name is None:
        return found
    info = parse_resident_id(id_number)
    return inserted_id(
        conn.execute(
            applicants.insert().values(
                kind="person",
                id_number=id_number,
                name=name,
                birth_date=info.birth_date,
                sex=info.sex,
                details={},
            )
        )
    )


_WAITING_AHEAD = Prepared(
    select(func.count().label("ahead"))
    .select_from(tickets)
    .where(
        tickets.c.hall_id == bindparam("hall_id"),
        tickets.c.status == "waiting",
        tickets.c.day == bindparam("day"),
        tickets.c.service_item_id == bindparam("item_id"),
        tickets.c.id < bindparam("ticket_id"),
    )
)


def _waiting_ahead(conn: Connection, hall_id: int, item_id: int, day: Any, ticket_id: int) -> int:
    params = {"hall_id": hall_id, "item_id": item_id, "day": day, "ticket_id": ticket_id}
    return int(_WAITING_AHEAD.first(conn, params).ahead)
