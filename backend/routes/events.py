"""Provides `GET /api/v1/events`: the event log as a Server-Sent Events stream.

The stream starts after `Last-Event-ID` (or `?after=`), or at the newest event when neither is
given. It reads rows from the table (the truth) and, when it has caught up, waits until this
instance commits something or `sse_poll_seconds` pass (so writes of other instances are seen too).
It ends once its session is logged out or expires (checked every few seconds): the client's
reconnection then meets 401.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy import Connection, select
from sse_starlette import EventSourceResponse, ServerSentEvent

from backend.auth import Principal, session_still_valid
from backend.db.schema import chain_head, events
from backend.event_log import event_to_wire, hall_codes
from backend.problems import InvalidInput
from backend.routes.common import Staff, State, is_small_number
from backend.state import AppState

router = APIRouter(prefix="/api/v1", tags=["events"])

BATCH = 500
RETRY_MS = 2000
# how often, at least, a stream checks that its session is still valid (the principal cache
# makes most of these checks free; a logout elsewhere is seen within the cache's seconds)
SESSION_CHECK_SECONDS = 2.0


def _head(conn: Connection) -> int:
    return int(conn.execute(select(chain_head.c.seq).where(chain_head.c.id == 1)).scalar() or 0)


def _batch(conn: Connection, principal: Principal, after: int) -> list[dict[str, Any]]:
    statement = select(events).where(events.c.seq > after)
    if principal.role != "admin":
        statement = statement.where(events.c.hall_id == principal.hall_id)
    rows = conn.execute(statement.order_by(events.c.seq).limit(BATCH)).all()
    codes = hall_codes(conn) if rows else {}
    return [event_to_wire(row, codes) for row in rows]


def _start(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id is not None and last_event_id.strip():
        if not is_small_number(last_event_id.strip()):
            raise InvalidInput(
                f"Last-Event-ID: {last_event_id!r} is not an event id (a sequence number).",
                errors=[{"loc": ["header", "Last-Event-ID"], "msg": "not a number", "type": "int"}],
            )
        return int(last_event_id.strip())
    return after


@router.get(
    "/events",
    summary="Live events (Server-Sent Events); resume with Last-Event-ID",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 401: {}, 403: {}, 422: {}},
)
async def event_stream(
    request: Request,
    principal: Staff,
    state: State,
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID", max_length=20),
    after: int | None = Query(default=None, ge=0, le=2**62, description="Start after this seq."),
) -> EventSourceResponse:
    start = _start(last_event_id, after)
    return await event_source(
        request,
        state,
        start,
        lambda last: state.db.read(_batch, principal, last),
        session=principal.token_hash,
    )


async def event_source(
    request: Request,
    state: AppState,
    start: int | None,
    read_batch: Callable[[int], Awaitable[list[dict[str, Any]]]],
    *,
    session: str,
) -> EventSourceResponse:
    """An SSE response of the rows `read_batch(after)` gives (at most BATCH, in seq order),
    from `start` (None: from the newest event), waking on this instance's commits, for as long
    as the session whose token digest is `session` stays valid."""
    if start is None:
        start = await state.db.read(_head)
    session_checked = time.monotonic()

    async def session_ended() -> bool:
        nonlocal session_checked
        if time.monotonic() - session_checked < SESSION_CHECK_SECONDS:
            return False
        session_checked = time.monotonic()
        return not await session_still_valid(state, session)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        state.stream_clients += 1
        try:
            yield ServerSentEvent(comment="connected", retry=RETRY_MS)
            last = start
            while True:
                rows = await read_batch(last)
                for row in rows:
                    last = row["seq"]
                    yield ServerSentEvent(
                        data=json.dumps(row, default=_json_default, ensure_ascii=False),
                        event=row["type"],
                        id=str(row["seq"]),
                    )
                if await session_ended():
                    return
                if len(rows) < BATCH:
                    if await request.is_disconnected():
                        return
                    await state.notifier.wait_at_most(state.settings.sse_poll_seconds)
        finally:
            state.stream_clients -= 1

    return EventSourceResponse(
        stream(),
        ping=int(state.settings.sse_heartbeat_seconds),
        headers={"Cache-Control": "no-store"},
    )


def _json_default(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
