"""Provides the hall-queue endpoints: issue, list, call next, walk-in and ticket actions."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BeforeValidator
from sqlalchemy import Connection

from api_client.models import Ticket, TicketActionRequest, TicketIssue, TicketList, WalkIn
from api_client.models.tickets import TicketAction, TicketStatus
from backend.auth.sessions import Principal
from backend.db.paging import decode_cursor, encode_cursor
from backend.hall.catalogue import hall_rules
from backend.hall.working_calendar import local_day
from backend.queue.calling import call_next
from backend.queue.issue import issue_ticket
from backend.queue.records import list_tickets
from backend.queue.tickets import apply_action
from backend.routes.common import Clerk, ClerkChange, Idempotent, Staff, State, Terminal
from backend.routes.idempotency import Outcome
from backend.routes.versioned import VersionedWrite, etag

router = APIRouter(prefix="/api/v1", tags=["tickets"])
# `/tickets/{ticket}/{action}` would swallow every other `/tickets/{ticket}/<word>` route; the
# app includes this router after all the others.
actions_router = APIRouter(prefix="/api/v1", tags=["tickets"])


@router.post(
    "/tickets",
    status_code=201,
    response_model=Ticket,
    responses={400: {}, 403: {}, 422: {}},
    summary="Issue a ticket (self-service terminal)",
)
async def issue(body: TicketIssue, principal: Terminal, idem: Idempotent) -> Any:
    def handler(conn: Connection, now: Any) -> Outcome:
        ticket = issue_ticket(
            conn,
            hall_id=principal.hall_id,
            service_item=body.service_item,
            priority_class=body.priority_class,
            applicant_id_number=body.applicant_id_number,
            applicant_name=body.applicant_name,
            appointment_at=body.appointment_at,
            now=now,
            actor=principal.actor,
        )
        return Outcome(201, ticket, etag(ticket["version"]))

    return await idem.run(handler)


def _iso_day(value: object) -> object:
    # pydantic reads "0" or "1700000000" as a Unix time; the API documents YYYY-MM-DD only
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


@router.get(
    "/tickets",
    response_model=TicketList,
    summary="Tickets of a day, keyset paged",
    responses={404: {}},
)
async def tickets_list(
    principal: Staff,
    state: State,
    status: TicketStatus | None = None,
    window: str | None = Query(default=None, max_length=32),
    service_item: str | None = Query(default=None, max_length=32),
    day: Annotated[
        date | None,
        Query(description="Hall-local day; today by default."),
        BeforeValidator(_iso_day),
    ] = None,
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=100, ge=1, le=500),
) -> dict[str, Any]:
    after = decode_cursor(cursor)

    def query(conn: Connection) -> list[dict[str, Any]]:
        the_day = day or local_day(
            state.clock.now(), hall_rules(conn, principal.hall_id)["timezone"]
        )
        return list_tickets(
            conn,
            hall_id=principal.hall_id,
            day=the_day,
            status=status,
            window=window,
            service_item=service_item,
            after_id=after,
            limit=limit,
        )

    items = await state.db.read(query)
    next_cursor = encode_cursor(items[-1]["id"]) if len(items) == limit else None
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/windows/{window}/call-next",
    response_model=Ticket,
    responses={204: {"description": "Nobody waits for this window."}, 403: {}, 404: {}, 409: {}},
    summary="Call the next ticket for a window",
)
async def call_next_ticket(window: str, idem: ClerkChange) -> Any:
    principal = idem.principal
    idem.window_lock = (principal.hall_id, window)  # its interleave count

    def handler(conn: Connection, now: Any) -> Outcome:
        ticket = call_next(
            conn,
            hall_id=principal.hall_id,
            window_code=window,
            window_id=principal.window_id,
            now=now,
            actor=principal.actor,
        )
        return Outcome(204) if ticket is None else Outcome(200, ticket, etag(ticket["version"]))

    return await idem.run(handler)


@router.post(
    "/windows/{window}/walk-in",
    status_code=201,
    response_model=Ticket,
    responses={403: {}, 404: {}, 422: {}},
    summary="Serve someone who has no ticket",
)
async def walk_in(window: str, body: WalkIn, principal: Clerk, idem: Idempotent) -> Any:
    def handler(conn: Connection, now: Any) -> Outcome:
        from backend.hall.catalogue import window_by_code
        from backend.problems import Forbidden

        target = window_by_code(conn, principal.hall_id, window)
        if target.id != principal.window_id:
            raise Forbidden(f"You are not logged in to window {window}.")
        ticket = issue_ticket(
            conn,
            hall_id=principal.hall_id,
            service_item=body.service_item,
            priority_class=None,
            applicant_id_number=body.applicant_id_number,
            applicant_name=body.applicant_name,
            appointment_at=None,
            now=now,
            actor=principal.actor,
            status="serving",
            window_id=target.id,
        )
        return Outcome(201, ticket, etag(ticket["version"]))

    return await idem.run(handler)


@router.get("/tickets/{ticket}", response_model=Ticket, responses={403: {}, 404: {}})
async def ticket_detail(
    ticket: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Staff, state: State
) -> Any:
    from backend.queue.records import load_ticket

    def query(conn: Connection) -> dict[str, Any]:
        found = load_ticket(conn, ticket)
        _require_ticket_hall(conn, principal, ticket)
        return found

    return await state.db.read(query)


def _require_ticket_hall(conn: Connection, principal: Principal, ticket_id: int) -> None:
    from sqlalchemy import select

    from backend.db.schema import tickets

    hall_id = conn.execute(select(tickets.c.hall_id).where(tickets.c.id == ticket_id)).scalar()
    if hall_id is not None:
        principal.require_hall(hall_id)


@actions_router.post(
    "/tickets/{ticket}/{action}",
    response_model=Ticket,
    responses={403: {}, 404: {}, 409: {}, 412: {}, 422: {}},
    summary="call, recall, no-show, reactivate, park, resume, transfer, start or finish",
)
async def ticket_action(
    ticket: Annotated[int, Path(ge=1, le=2**31 - 1)],
    action: TicketAction,
    principal: Staff,
    write: VersionedWrite,
    body: Annotated[TicketActionRequest | None, Body()] = None,
) -> Any:
    return await write.run(
        lambda conn, now, version: apply_action(
            conn,
            ticket_id=ticket,
            action=action,
            principal=principal,
            body=body,
            if_match=version,
            now=now,
        ),
        version_of=lambda result: result["version"],
    )
