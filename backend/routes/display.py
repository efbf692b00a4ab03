"""Provides the hall call display's endpoints: `GET /api/v1/display` (the snapshot) and
`GET /api/v1/display/events` (its ticket events as Server-Sent Events).

Who may read them: the self-service terminal account (the display runs in the waiting room, on
the same kind of unattended machine as the ticket terminal), supervisors and admins. Clerks and
the portal have no use for them. An admin may name another hall with `?hall=`; everyone else
gets their own hall. The stream is not `/api/v1/events`: that one is staff-only and its ticket
events may carry a clerk's note; this one passes on only number, window and service item.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy import Connection
from sse_starlette import EventSourceResponse

from api_client.models import DisplayBoard
from backend.auth.sessions import Principal, require_roles
from backend.board.display import display_board, display_events, display_hall
from backend.events.tail import TailEvent, event_frame
from backend.routes.common import State
from backend.routes.events import BATCH, _start, event_source

router = APIRouter(prefix="/api/v1", tags=["display"])


def _display_frames(conn: Connection, hall_id: int, hall_code: str, after: int) -> list[TailEvent]:
    return [
        TailEvent(event["seq"], hall_id, event_frame(event).encode())
        for event in display_events(conn, hall_id, hall_code, after, BATCH)
    ]


DisplayReader = Annotated[Principal, Depends(require_roles("terminal", "supervisor", "admin"))]
HallCode = Annotated[
    str | None,
    Query(max_length=32, description="Hall code (admins only; default: the caller's hall)."),
]


@router.get(
    "/display",
    response_model=DisplayBoard,
    responses={403: {}, 404: {}},
    summary="The hall call display's snapshot: latest calls and waiting counts, no personal data",
)
async def display(
    principal: DisplayReader,
    state: State,
    hall: HallCode = None,
    limit: Annotated[int, Query(ge=1, le=50, description="How many latest calls.")] = 8,
) -> dict[str, Any]:
    hall_id = await state.db.read(display_hall, principal, hall)
    return await state.db.read(display_board, hall_id, state.clock.now(), limit)


@router.get(
    "/display/events",
    summary="The display's live ticket events (Server-Sent Events); resume with Last-Event-ID",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 401: {}, 403: {}, 404: {}, 422: {}},
)
async def display_stream(
    request: Request,
    principal: DisplayReader,
    state: State,
    hall: HallCode = None,
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID", max_length=20),
    after: int | None = Query(default=None, ge=0, le=2**62, description="Start after this seq."),
) -> EventSourceResponse:
    hall_id = await state.db.read(display_hall, principal, hall)
    hall_code = hall or principal.hall_code
    start = _start(last_event_id, after)
    return await event_source(
        request,
        state,
        start,
        lambda last: state.db.read(_display_frames, hall_id, hall_code, last),
        session=principal.token_hash,
    )
