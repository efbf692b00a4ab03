"""Provides the merge endpoints: candidates (for a case or the visitor at a window), the
side-by-side preview, merging, the merge record and history, unmerging (supervisor), and opening a
hall case for the visitor being served."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from sqlalchemy import Connection

from api_client.models import (
    Case,
    HallCaseOpen,
    MergeCandidateList,
    MergeList,
    MergePreview,
    MergeRecord,
    MergeRequest,
    MergeResult,
    UnmergeRequest,
)
from backend.cases.hall_intake import open_hall_case
from backend.cases.records import case_hall
from backend.merges.candidates import candidates_for_case, candidates_for_ticket
from backend.merges.merge import merge_cases
from backend.merges.plan import preview
from backend.merges.record import load_merge, merge_hall, merges_of_case
from backend.merges.unmerge import unmerge
from backend.routes.common import Clerk, Idempotent, Staff, State, Supervisor
from backend.routes.idempotency import Outcome
from backend.routes.versioned import VersionedWrite, etag

router = APIRouter(prefix="/api/v1", tags=["merges"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/tickets/{ticket}/case",
    status_code=201,
    response_model=Case,
    responses={403: {}, 404: {}, 409: {}, 422: {}},
    summary="Open a hall case for the visitor being served (the clerk holding the ticket)",
)
async def open_case(ticket: Id, body: HallCaseOpen, principal: Clerk, idem: Idempotent) -> Any:
    def handler(conn: Connection, now: Any) -> Outcome:
        case = open_hall_case(conn, principal=principal, ticket_id=ticket, body=body, now=now)
        return Outcome(201, Case.model_validate(case), etag(case["version"]))

    return await idem.run(handler)


@router.get(
    "/tickets/{ticket}/merge-candidates",
    response_model=MergeCandidateList,
    responses={403: {}, 404: {}},
    summary="Open cases that may be the same matter as the ticket holder's (ranked)",
)
async def ticket_candidates(ticket: Id, principal: Staff, state: State) -> Any:
    return await state.db.read(lambda conn: candidates_for_ticket(conn, principal, ticket))


@router.get(
    "/cases/{case}/merge-candidates",
    response_model=MergeCandidateList,
    responses={403: {}, 404: {}},
    summary="Open cases that may be the same matter as this one (ranked, with reasons)",
)
async def case_candidates(case: Id, principal: Staff, state: State) -> Any:
    def query(conn: Connection) -> dict[str, Any]:
        principal.require_hall(case_hall(conn, case))
        return candidates_for_case(conn, case)

    return await state.db.read(query)


@router.get(
    "/cases/{case}/merge-preview",
    response_model=MergePreview,
    responses={403: {}, 404: {}, 409: {}, 422: {}},
    summary="The two cases side by side and what merging them would do",
)
async def merge_preview(
    case: Id,
    principal: Staff,
    state: State,
    other: int = Query(ge=1, le=2**31 - 1, description="The other case."),
    survivor: Literal["this", "other"] = Query(default="this"),
) -> Any:
    def query(conn: Connection) -> dict[str, Any]:
        principal.require_hall(case_hall(conn, case))
        return preview(conn, case, other, survivor)

    return await state.db.read(query)


@router.post(
    "/cases/{case}/merge",
    status_code=201,
    response_model=MergeResult,
    responses={403: {}, 404: {}, 409: {}, 412: {}, 422: {}, 428: {}},
    summary="Merge another case with this one (If-Match: the survivor's version)",
)
async def merge(
    case: Id,
    body: MergeRequest,
    principal: Staff,
    write: VersionedWrite,
) -> Any:
    return await write.run(
        lambda conn, now, version: merge_cases(
            conn, principal=principal, case_id=case, body=body, if_match=version, now=now
        ),
        status=201,
        principal=principal,
        hall_of=lambda conn: case_hall(conn, case),
        version_of=lambda result: result["survivor"]["version"],
        body_of=MergeResult.model_validate,
        headers_of=lambda result: {"Location": f"/api/v1/merges/{result['merge']['id']}"},
    )


@router.get(
    "/cases/{case}/merges",
    response_model=MergeList,
    responses={403: {}, 404: {}},
    summary="Every merge this case took part in, undone ones too (its merge history)",
)
async def case_merges(case: Id, principal: Staff, state: State) -> Any:
    now = state.clock.now()

    def query(conn: Connection) -> dict[str, Any]:
        principal.require_hall(case_hall(conn, case))
        return {"items": merges_of_case(conn, case, now)}

    return await state.db.read(query)


@router.get(
    "/merges/{merge}",
    response_model=MergeRecord,
    responses={403: {}, 404: {}},
    summary="One merge: what was merged, how, and whether it can still be undone",
)
async def merge_detail(merge: Id, principal: Staff, state: State) -> Any:
    now = state.clock.now()

    def query(conn: Connection) -> dict[str, Any]:
        principal.require_hall(merge_hall(conn, merge))
        return load_merge(conn, merge, now)

    return await state.db.read(query)


@router.post(
    "/merges/{merge}/unmerge",
    response_model=MergeResult,
    responses={403: {}, 404: {}, 409: {}},
    summary="Undo a merge (supervisor): both cases return to their state before it",
)
async def unmerge_cases(
    merge: Id,
    principal: Supervisor,
    idem: Idempotent,
    body: Annotated[UnmergeRequest | None, Body()] = None,
) -> Any:
    note = body.note if body else None

    def handler(conn: Connection, now: Any) -> Outcome:
        result = unmerge(conn, principal=principal, merge_id=merge, note=note, now=now)
        return Outcome(200, MergeResult.model_validate(result), etag(result["survivor"]["version"]))

    return await idem.run(handler)
