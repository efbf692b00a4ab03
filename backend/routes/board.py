"""Provides the supervisor board endpoints: the snapshot, closing and reopening a window, and
reassigning a case. (Moving a waiting ticket and reactivating a no-show are ticket actions.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from api_client.models import Case, Window
from api_client.models.board import Board, CaseReassign, WindowClose
from backend.board.snapshot import board_snapshot
from backend.board.supervision import close_window, open_window, reassign_case
from backend.routes.common import Idempotent, State, Supervisor
from backend.routes.idempotency import Outcome
from backend.routes.versioned import VersionedWrite

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
    write: VersionedWrite,
) -> Any:
    return await write.run(
        lambda conn, now, version: reassign_case(
            conn, principal, case, body.assignee, body.note, version, now
        ),
        version_of=lambda result: result["version"],
    )
