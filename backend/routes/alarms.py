"""Provides the emergency alarm endpoints and the audited reveal of personal data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from sqlalchemy import Connection

from api_client.models import Alarm, AlarmList, AlarmRaise, PersonalData
from backend.auth.personal_data import reveal
from backend.board.alarms import acknowledge_alarm, list_alarms, raise_alarm
from backend.routes.common import Clerk, Idempotent, Staff, State, Supervisor
from backend.routes.idempotency import Outcome

router = APIRouter(prefix="/api/v1", tags=["alarms"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/windows/{window}/alarm",
    status_code=201,
    response_model=Alarm,
    responses={403: {}, 404: {}, 422: {}},
    summary="Raise the emergency alarm of a window",
)
async def raise_window_alarm(
    window: str,
    principal: Clerk,
    idem: Idempotent,
    body: Annotated[AlarmRaise | None, Body()] = None,
) -> Any:
    note = body.note if body else None

    def handler(conn: Connection, now: Any) -> Outcome:
        return Outcome(201, raise_alarm(conn, principal, window, note, now))

    return await idem.run(handler)


@router.post(
    "/alarms/{alarm}/acknowledge",
    response_model=Alarm,
    responses={403: {}, 404: {}, 409: {}},
    summary="Acknowledge an alarm (the clerk sees it)",
)
async def acknowledge(alarm: Id, principal: Supervisor, idem: Idempotent) -> Any:
    return await idem.run(
        lambda conn, now: Outcome(200, acknowledge_alarm(conn, principal, alarm, now))
    )


@router.get("/alarms", response_model=AlarmList, summary="The hall's alarms, newest first")
async def alarms(principal: Staff, state: State, open: bool = False) -> dict[str, Any]:
    return {"items": await state.db.read(list_alarms, principal.hall_id, open)}


@router.post(
    "/cases/{case}/reveal",
    response_model=PersonalData,
    responses={403: {}, 404: {}},
    summary="Show the applicant's unmasked data (audited)",
)
async def reveal_case(case: Id, principal: Staff, idem: Idempotent) -> Any:
    return await idem.run(
        lambda conn, now: Outcome(200, reveal(conn, principal, "case", case, now))
    )


@router.post(
    "/tickets/{ticket}/reveal",
    response_model=PersonalData,
    responses={403: {}, 404: {}},
    summary="Show the ticket holder's unmasked data (audited)",
)
async def reveal_ticket(ticket: Id, principal: Staff, idem: Idempotent) -> Any:
    return await idem.run(
        lambda conn, now: Outcome(200, reveal(conn, principal, "ticket", ticket, now))
    )
