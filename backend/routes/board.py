"""Provides the supervisor board endpoints: the snapshot, closing and reopening a window, and
reassigning a case. (Moving a waiting ticket and reactivating a no-show are ticket actions.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from sqlalchemy import Connection

from api_client.models import Case, Window
from api_client.models.board import Board, CaseReassign, WindowClose
from backend.board import board_snapshot, close_window, open_window, reassign_case
from backend.idempotency import Outcome
from backend.routes.common import Idempotent, IfMatch, State, Supervisor, parse_if_match

router = APIRouter(prefix="/api/v1", tags=["board"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get(
    "/board",
    response_model=Board,
    responses={403: {}},
    summary="The supervisor board's snapshot; the event stream from `seq` keeps it current",
)
async def board(principal: Supervisor, state: State) -> Any:
    now = state.clock.now()
    return await state.db.read(board_snapshot, principal.hall_id, now)


@router.post(
    "/windows/{window}/close",
    response_model=Window,
    responses={403: {}, 404: {}, 409: {}},
    summary="Close a window (supervisor); its clerk can no longer call",
)
async def close(
    window: str,
    principal: Supervisor,
    idem: Idempotent,
    body: Annotated[WindowClose | None, Body()] = None,
) -> Any:
    reason = body.reason if body else None
    idem.window_lock = (principal.hall_id, window)
    return await idem.run(
        lambda conn, now: Outcome(200, close_window(conn, principal, window, reason, now))
    )


@router.post(
    "/windows/{window}/open",
    response_model=Window,
    responses={403: {}, 404: {}, 409: {}},
    summary="Open a closed window again (supervisor)",
)
async def reopen(window: str, principal: Supervisor, idem: Idempotent) -> Any:
    idem.window_lock = (principal.hall_id, window)
    return await idem.run(lambda conn, now: Outcome(200, open_window(conn, principal, window, now)))


@router.post(
    "/cases/{case}/reassign",
    response_model=Case,
    responses={403: {}, 404: {}, 409: {}, 412: {}, 422: {}, 428: {}},
    summary="Give an open case to another clerk (supervisor)",
)
async def reassign(
    case: Id,
    body: CaseReassign,
    principal: Supervisor,
    idem: Idempotent,
    if_match: IfMatch = None,
) -> Any:
    version = parse_if_match(if_match)

    def handler(conn: Connection, now: Any) -> Outcome:
        result = reassign_case(conn, principal, case, body.assignee, body.note, version, now)
        return Outcome(200, result, {"ETag": f'"{result["version"]}"'})

    return await idem.run(handler)
