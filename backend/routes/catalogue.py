"""Provides `/api/v1/service-items` and `/api/v1/windows` (with pause and resume)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api_client.models import ServiceItemList, Window, WindowList
from api_client.models.catalogue import PauseRequest
from backend.hall.catalogue import list_service_items, list_windows
from backend.hall.window_states import pause_or_resume_window
from backend.routes.common import AnyUser, Idempotent, Staff, State
from backend.routes.idempotency import Outcome

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


@router.get(
    "/service-items",
    response_model=ServiceItemList,
    summary="The hall's catalogue (also for its ticket machines and the online portal)",
)
async def service_items(principal: AnyUser, state: State) -> dict[str, Any]:
    # the catalogue is the hall's published service guide: a ticket machine needs it for its
    # buttons, the portal for what can be applied for online
    return {"items": await state.db.read(list_service_items, principal.hall_id)}


@router.get("/windows", response_model=WindowList, summary="The hall's windows")
async def windows_list(principal: Staff, state: State) -> dict[str, Any]:
    return await state.db.read(list_windows, principal.hall_id)


@router.post(
    "/windows/{window}/pause",
    response_model=Window,
    responses={403: {}, 404: {}, 409: {}},
    summary="Pause a window with a reason",
)
async def pause_window(window: str, body: PauseRequest, principal: Staff, idem: Idempotent) -> Any:
    idem.window_lock = (principal.hall_id, window)
    return await idem.run(
        lambda conn, now: Outcome(
            200, pause_or_resume_window(conn, principal, window, "paused", body.reason, now)
        )
    )


@router.post(
    "/windows/{window}/resume",
    response_model=Window,
    responses={403: {}, 404: {}, 409: {}},
    summary="Resume a paused window",
)
async def resume_window(window: str, principal: Staff, idem: Idempotent) -> Any:
    idem.window_lock = (principal.hall_id, window)
    return await idem.run(
        lambda conn, now: Outcome(
            200, pause_or_resume_window(conn, principal, window, "open", None, now)
        )
    )
