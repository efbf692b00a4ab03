"""Provides case intake (portal), the case lists, claiming the next online case and the clerk's
verification of one material."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy import Connection

from api_client.identity import ResidentId
from api_client.models import Case, CaseIntake, CaseList, MaterialVerification
from api_client.models.cases import CaseStatus, Channel, ClockStatus
from backend.cases.intake import intake_case
from backend.cases.listing import CaseFilter, claim_next_case, list_cases
from backend.cases.records import case_hall, case_row, load_case, lock_case
from backend.cases.time_limits import hall_day_of
from backend.cases.verification import record_verification
from backend.db.paging import decode_cursor_data, encode_cursor
from backend.problems import PreconditionFailed, PreconditionRequired
from backend.routes.common import ClerkChange, Idempotent, Portal, Staff, State
from backend.routes.idempotency import Outcome
from backend.routes.versioned import VersionedWrite, etag

router = APIRouter(prefix="/api/v1", tags=["cases"])


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
        return Outcome(201, case, etag(case["version"]))

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
    clock_status: ClockStatus | None = Query(
        default=None, description="Only cases whose promised time limit is in this state."
    ),
    sort: Literal["id", "deadline"] = Query(
        default="id", description="`deadline`: earliest promised completion date first."
    ),
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    after = decode_cursor_data(cursor)
    filters = CaseFilter(
        status=status,
        channel=channel,
        service_item=service_item,
        assignee=assignee,
        applicant_id_number=applicant_id,
        clock_status=clock_status,
        sort=sort,
    )
    now = state.clock.now()
    items = await state.db.read(
        lambda conn: list_cases(
            conn,
            hall_id=principal.hall_id,
            filters=filters,
            cursor=after,
            limit=limit,
            now=now,
        )
    )
    deadlines = [item.pop("_deadline") for item in items]
    next_cursor = None
    if len(items) == limit:
        extra = {"deadline": deadlines[-1]} if sort == "deadline" else {}
        next_cursor = encode_cursor(items[-1]["id"], **extra)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/cases/claim-next",
    response_model=Case,
    responses={204: {"description": "No unassigned online case waits."}, 403: {}},
    summary="Claim the next unassigned online case",
)
async def claim_next(idem: ClerkChange) -> Any:
    principal = idem.principal

    def handler(conn: Connection, now: Any) -> Outcome:
        case = claim_next_case(
            conn,
            hall_id=principal.hall_id,
            user_id=principal.user_id,
            window_id=principal.window_id,
            now=now,
            actor=principal.actor,
        )
        return Outcome(204) if case is None else Outcome(200, case, etag(case["version"]))

    return await idem.run(handler)


@router.get("/cases/{case}", response_model=Case, responses={403: {}, 404: {}})
async def case_detail(
    case: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Staff, state: State
) -> Any:
    now = state.clock.now()

    def query(conn: Connection) -> dict[str, Any]:
        principal.require_hall(case_hall(conn, case))
        return load_case(conn, case, now=now)

    return await state.db.read(query)


CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MaterialCode = Annotated[str, Path(min_length=1, max_length=64)]


def require_version(conn: Connection, case: int, if_match: int | None, now: Any) -> Any:
    """The case row, when `if_match` names its current version (428 without, 412 when stale)."""
    lock_case(conn, case)
    row = case_row(conn, case)
    if if_match is None:
        raise PreconditionRequired(
            f'Send If-Match with the case version you saw (e.g. "{row.version}").'
        )
    if if_match != row.version:
        raise PreconditionFailed(
            f"Case {row.number} changed (version {row.version}, you sent {if_match}).",
            current=load_case(conn, case, now=now),
        )
    return row


@router.put(
    "/cases/{case}/materials/{material}",
    response_model=Case,
    responses={403: {}, 404: {}, 409: {}, 412: {}, 422: {}, 428: {}},
    summary="Record the verification of one material of the case",
)
async def verify_material(
    case: CaseId,
    material: MaterialCode,
    body: MaterialVerification,
    principal: Staff,
    write: VersionedWrite,
) -> Any:
    def change(conn: Connection, now: Any, version: int | None) -> dict[str, Any]:
        row = require_version(conn, case, version, now)
        record_verification(
            conn,
            case_row=row,
            applicant_id_number=row.applicant_id_number,
            material_code=material,
            body=body,
            actor=principal.actor,
            now=now,
            today=hall_day_of(conn, row.hall_id, now).today,
        )
        return load_case(conn, case, now=now)

    return await write.run(
        change,
        principal=principal,
        hall_of=lambda conn: case_hall(conn, case),
        version_of=lambda updated: updated["version"],
    )
