"""Provides the e-licence (电子证照) look-up by holder."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import Connection

from api_client.models import ELicenceList
from backend.cases.e_licences import licences_of_holder
from backend.cases.time_limits import hall_day_of
from backend.routes.common import Staff, State

router = APIRouter(prefix="/api/v1", tags=["e-licences"])


@router.get(
    "/e-licences",
    response_model=ELicenceList,
    responses={403: {}, 422: {}},
    summary="The e-licences of one holder, with whether each can be used today",
)
async def e_licences(
    principal: Staff,
    state: State,
    holder: Annotated[
        str,
        Query(
            min_length=1,
            max_length=18,
            description="The holder's resident ID number or unified social credit code.",
        ),
    ],
    type: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    now = state.clock.now()
    number = holder.strip().upper()

    def query(conn: Connection) -> list[dict[str, Any]]:
        today = hall_day_of(conn, principal.hall_id, now).today
        return licences_of_holder(conn, number, type, today)

    return {"items": await state.db.read(query)}
