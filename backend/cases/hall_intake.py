"""Provides opening a hall case for the visitor a clerk is serving, attached to the ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from api_client.models import CaseIntake, IntakeApplicant
from api_client.models.merges import HallCaseOpen
from api_client.models.tickets import HELD_STATUSES
from backend.auth.sessions import Principal
from backend.cases.intake import case_event, intake_case
from backend.cases.merge_links import case_link
from backend.cases.records import case_row, load_case
from backend.db.paging import MAX_ID
from backend.db.schema import applicants, case_materials, cases, service_items, tickets
from backend.hall.catalogue import item_materials
from backend.problems import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound


def ticket_row(conn: Connection, ticket_id: int) -> Any:
    row = None
    if ticket_id <= MAX_ID:
        row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
    if row is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    return row


def open_hall_case(
    conn: Connection, *, principal: Principal, ticket_id: int, body: HallCaseOpen, now: datetime
) -> dict[str, Any]:
    """Open a `hall` case for the visitor a clerk is serving and attach it to the ticket."""
    ticket = ticket_row(conn, ticket_id)
    principal.require_hall(ticket.hall_id)
    if ticket.status not in HELD_STATUSES:
        raise InvalidTransition(
            f"Ticket {ticket.number} is {ticket.status}: open a case for a visitor you have "
            "called or are serving.",
            current={"status": ticket.status, "version": ticket.version},
        )
    if principal.window_id is None or ticket.window_id != principal.window_id:
        raise Forbidden(f"Ticket {ticket.number} is held by another window.")
    if ticket.case_id is not None:
        number = case_link(conn, ticket.case_id)["number"]
        raise Conflict(
            f"Ticket {ticket.number} already has case {number}.",
            case={"id": ticket.case_id, "number": number},
        )
    item_code = (
        body.service_item
        or conn.execute(
            select(service_items.c.code).where(service_items.c.id == ticket.service_item_id)
        ).scalar_one()
    )
    applicant = body.applicant or _ticket_applicant(conn, ticket)
    intake = CaseIntake(service_item=item_code, channel="hall", applicant=applicant)
    case = intake_case(conn, hall_id=ticket.hall_id, intake=intake, now=now, actor=principal.actor)
    row = case_row(conn, case["id"])
    known = item_materials(conn, row.service_item_id)
    for index, paper in enumerate(body.materials):
        if paper.material not in known:
            raise InvalidInput(
                f"materials[{index}].material: {paper.material!r} is not a material of service "
                f"item {item_code}.",
                errors=[
                    {
                        "loc": ["body", "materials", index, "material"],
                        "msg": "unknown material",
                        "type": "unknown",
                    }
                ],
            )
        conn.execute(
            insert(case_materials).values(
                case_id=row.id,
                material_code=paper.material,
                origin="hall_paper",
                document=paper.document.model_dump(mode="json") if paper.document else None,
            )
        )
    version = row.version + 1
    conn.execute(
        update(cases)
        .where(cases.c.id == row.id)
        .values(
            status="under_review",
            assignee_id=principal.user_id,
            claimed_at=now,
            ticket_id=ticket.id,
            version=version,
        )
    )
    conn.execute(update(tickets).where(tickets.c.id == ticket.id).values(case_id=row.id))
    case_event(
        conn,
        row,
        "case.opened_at_window",
        principal,
        now,
        {
            "status": "under_review",
            "channel": "hall",
            "ticket": ticket.number,
            "assignee": principal.username,
            "materials": [p.material for p in body.materials],
            "version": version,
        },
    )
    return load_case(conn, row.id, now=now)


def _ticket_applicant(conn: Connection, ticket: Any) -> IntakeApplicant:
    if ticket.applicant_id is None:
        raise InvalidInput(
            f"applicant: ticket {ticket.number} has no applicant; give one.",
            errors=[{"loc": ["body", "applicant"], "msg": "field required", "type": "missing"}],
        )
    person = conn.execute(select(applicants).where(applicants.c.id == ticket.applicant_id)).one()
    return IntakeApplicant(
        kind=person.kind,
        id_number=person.id_number,
        name=person.name,
        phone=person.phone,
        birth_date=person.birth_date,
        sex=person.sex,
    )
