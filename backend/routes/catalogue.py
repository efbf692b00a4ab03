"""Provides `/api/v1/service-items` and `/api/v1/windows` (with pause and resume)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection, update

from api_client.models import ServiceItemList, Window, WindowList
from api_client.models.catalogue import PauseRequest
from backend.auth.sessions import Principal
from backend.db.event_log import append_event
from backend.db.schema import windows
from backend.hall.catalogue import list_service_items, list_windows, window_by_code
from backend.problems import Forbidden, InvalidTransition
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


def _set_window_state(
    conn: Connection,
    principal: Principal,
    code: str,
    new_state: str,
    reason: str | None,
    now: datetime,
) -> Outcome:
    window = window_by_code(conn, principal.hall_id, code)
    if principal.role == "clerk" and window.id != principal.window_id:
        raise Forbidden(f"You are not logged in to window {code}.")
    expected = {"paused": "open", "open": "paused"}[new_state]
    if window.state != expected:
        raise InvalidTransition(
            f"Window {code} is {window.state}.", current={"state": window.state}
        )
    conn.execute(
        update(windows)
        .where(windows.c.id == window.id)
        .values(state=new_state, pause_reason=reason, version=windows.c.version + 1)
    )
    append_event(
        conn,
        hall_id=principal.hall_id,
        type="window.paused" if new_state == "paused" else "window.resumed",
        subject_type="window",
        subject_id=code,
        actor=principal.actor,
        at=now,
        payload={"state": new_state, "reason": reason},
    )
    listing = list_windows(conn, principal.hall_id)["items"]
    return Outcome(200, next(w for w in listing if w["code"] == code))


@router.post(
    "/windows/{window}/pause",
    response_model=Window,
    responses={403: {}, 404: {}, 409: {}},
    summary="Pause a window with a reason",
)
async def pause_window(window: str, body: PauseRequest, principal: Staff, idem: Idempotent) -> Any:
    return await idem.run(
        lambda conn, now: _set_window_state(conn, principal, window, "paused", body.reason, now)
    )


@router.post(
    "/windows/{window}/resume",
    response_model=Window,
    responses={403: {}, 404: {}, 409: {}},
    summary="Resume a paused window",
)
async def resume_window(window: str, principal: Staff, idem: Idempotent) -> Any:
    return await idem.run(
        lambda conn, now: _set_window_state(conn, principal, window, "open", None, now)
    )
