"""Provides case intake (portal), the case lists and claiming the next online case."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import Connection

from api_client.identity import ResidentId
from api_client.models import Case, CaseIntake, CaseList
from api_client.models.cases import CaseStatus, Channel
from backend.cases import (
    case_hall,
    claim_next_case,
    decode_cursor,
    encode_cursor,
    intake_case,
    list_cases,
    load_case,
)
from backend.idempotency import Outcome
from backend.routes.common import Clerk, Idempotent, Portal, Staff, State

router = APIRouter(prefix="/api/v1", tags=["cases"])


def _etag(case: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{case["version"]}"'}


@router.post(
    "/cases",
    status_code=201,
    response_model=Case,
    responses={400: {}, 403: {}, 422: {}},
    summary="Intake of an online application (portal)",
)
async def create_case(body: CaseIntake, principal: Portal, idem: Idempotent) -> Any:
    def handler(conn: Connection, now: Any) -> Outcome:
        case = intake_case(
            conn, hall_id=principal.hall_id, intake=body, now=now, actor=principal.actor
        )
        return Outcome(201, case, _etag(case))

    return await idem.run(handler)


@router.get("/cases", response_model=CaseList, summary="Cases, filtered and keyset paged")
async def cases_list(
    principal: Staff,
    state: State,
    status: CaseStatus | None = None,
    channel: Channel | None = None,
    service_item: str | None = Query(default=None, max_length=32),
    assignee: str | None = Query(default=None, max_length=64),
    applicant_id: ResidentId | None = Query(default=None),
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    after = decode_cursor(cursor)
    items = await state.db.read(
        lambda conn: list_cases(
            conn,
            hall_id=principal.hall_id,
            status=status,
            channel=channel,
            service_item=service_item,
            assignee=assignee,
            applicant_id_number=applicant_id,
            after_id=after,
            limit=limit,
        )
    )
    next_cursor = encode_cursor(items[-1]["id"]) if len(items) == limit else None
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/cases/claim-next",
    response_model=Case,
    responses={204: {"description": "No unassigned online case waits."}, 403: {}},
    summary="Claim the next unassigned online case",
)
async def claim_next(principal: Clerk, idem: Idempotent) -> Any:
    def handler(conn: Connection, now: Any) -> Outcome:
        case = claim_next_case(
            conn,
            hall_id=principal.hall_id,
            user_id=principal.user_id,
            window_id=principal.window_id,
            now=now,
            actor=principal.actor,
        )
        return Outcome(204) if case is None else Outcome(200, case, _etag(case))

    return await idem.run(handler)


@router.get("/cases/{case}", response_model=Case, responses={403: {}, 404: {}})
async def case_detail(
    case: Annotated[int, Path(ge=1, le=2**62)], principal: Staff, state: State
) -> Any:
    def query(conn: Connection) -> dict[str, Any]:
        principal.require_hall(case_hall(conn, case))
        return load_case(conn, case)

    return await state.db.read(query)
