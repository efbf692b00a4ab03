"""Provides the ticket as the API answers it: the one SELECT of a ticket row, its wire form,
one ticket, the day's list, and the payload of a ticket's events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from api_client.identity import mask_resident_id
from backend.db.prepared import Prepared
from backend.db.schema import applicants, priority_classes, service_items, tickets, windows
from backend.hall.catalogue import service_item_by_code, window_by_code
from backend.problems import NotFound


def ticket_event_payload(ticket: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": ticket["number"],
        "status": ticket["status"],
        "service_item": ticket["service_item"],
        "window": ticket["window"],
        "target_window": ticket["target_window"],
        "priority_class": ticket["priority_class"],
        "version": ticket["version"],
    }


def ticket_select(source: Any = tickets, start: Any = None, *leading: Any) -> Any:
    """A ticket with the codes and applicant it is shown with; `source` is the tickets table or
    a CTE with its columns (the claim's UPDATE ... RETURNING), `start` what the joins hang on."""
    holding = windows.alias("holding")
    target = windows.alias("target")
    return select(
        *leading,
        source,
        service_items.c.code.label("item_code"),
        priority_classes.c.code.label("class_code"),
        holding.c.code.label("window_code"),
        target.c.code.label("target_code"),
        applicants.c.name.label("applicant_name"),
        applicants.c.id_number.label("applicant_id_number"),
    ).select_from(
        (source if start is None else start)
        .outerjoin(service_items, service_items.c.id == source.c.service_item_id)
        .outerjoin(priority_classes, priority_classes.c.id == source.c.priority_class_id)
        .outerjoin(holding, holding.c.id == source.c.window_id)
        .outerjoin(target, target.c.id == source.c.target_window_id)
        .outerjoin(applicants, applicants.c.id == source.c.applicant_id)
    )


def ticket_to_wire(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "day": row.day,
        "status": row.status,
        "service_item": row.item_code,
        "priority_class": row.class_code,
        "priority_weight": row.priority_weight,
        "appointment_at": row.appointment_at,
        "window": row.window_code,
        "target_window": row.target_code,
        "walk_in": row.walk_in,
        "issued_at": row.issued_at,
        "called_at": row.called_at,
        "recalled_at": row.recalled_at,
        "recall_count": row.recall_count,
        "serving_started_at": row.serving_started_at,
        "finished_at": row.finished_at,
        "outcome": row.outcome,
        "transfer_count": row.transfer_count,
        "applicant": (
            {
                "name": row.applicant_name,
                "id_number_masked": mask_resident_id(row.applicant_id_number),
            }
            if row.applicant_name is not None
            else None
        ),
        "waiting_ahead": None,
        "version": row.version,
    }


_TICKET_BY_ID = Prepared(ticket_select().where(tickets.c.id == bindparam("ticket_id")))


def load_ticket(conn: Connection, ticket_id: int) -> dict[str, Any]:
    row = _TICKET_BY_ID.first(conn, {"ticket_id": ticket_id})
    if row is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    return ticket_to_wire(row)


def list_tickets(
    conn: Connection,
    *,
    hall_id: int,
    day: Any,
    status: str | None,
    window: str | None,
    service_item: str | None,
    after_id: int,
    limit: int,
) -> list[dict[str, Any]]:
    where = [tickets.c.hall_id == hall_id, tickets.c.day == day, tickets.c.id > after_id]
    if status:
        where.append(tickets.c.status == status)
    if window:
        w = window_by_code(conn, hall_id, window)
        where.append(or_(tickets.c.window_id == w.id, tickets.c.target_window_id == w.id))
    if service_item:
        item = service_item_by_code(conn, hall_id, service_item, field="service_item")
        where.append(tickets.c.service_item_id == item.id)
    rows = conn.execute(ticket_select().where(*where).order_by(tickets.c.id).limit(limit))
    return [ticket_to_wire(r) for r in rows]
