"""Provides `GET /api/v1/events`: the event log as a Server-Sent Events stream.

The stream starts after `Last-Event-ID` (or `?after=`), or at the newest event when neither is
given. It takes the events from the instance's `EventTail` (read from the table once for all
streams, woken by this instance's commits, by NOTIFY, or every `sse_poll_seconds`), and reads
the table itself only to catch up from further back than the tail reaches. It ends once its
session is logged out or expires (checked every few seconds): the client's reconnection then
meets 401.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy import Connection, select
from sse_starlette import EventSourceResponse, ServerSentEvent

from backend.auth.sessions import Principal, session_still_valid
from backend.db.schema import events
from backend.events.tail import EventTail, TailEvent, encoded_events, newest_seq
from backend.problems import InvalidInput
from backend.routes.common import Staff, State, is_small_number
from backend.runtime.state import AppState

router = APIRouter(prefix="/api/v1", tags=["events"])

BATCH = 500
RETRY_MS = 2000
# how often a stream checks that its session is still valid (through the principal cache,
# so a logout anywhere ends its streams within this plus the cache's seconds)
SESSION_CHECK_SECONDS = 5.0


def _batch(conn: Connection, principal: Principal, after: int) -> list[TailEvent]:
    """The caller's next BATCH events after `after`, encoded (on the read thread)."""
    statement = select(events).where(events.c.seq > after)
    if principal.role != "admin":
        statement = statement.where(events.c.hall_id == principal.hall_id)
    return encoded_events(conn, conn.execute(statement.order_by(events.c.seq).limit(BATCH)).all())


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

    def visible(event: TailEvent) -> bool:
        return principal.role == "admin" or event.hall_id == principal.hall_id

    return await event_source(
        request,
        state,
        start,
        lambda last: state.db.read(_batch, principal, last),
        session=principal.token_hash,
        tail=(state.tail, visible) if state.tail is not None else None,
    )


async def event_source(
    request: Request,
    state: AppState,
    start: int | None,
    read_batch: Callable[[int], Awaitable[list[TailEvent]]],
    *,
    session: str,
    tail: tuple[EventTail, Callable[[TailEvent], bool]] | None = None,
) -> EventSourceResponse:
    """An SSE response of the events after `start` (None: from the newest event), for as long
    as the session whose token digest is `session` stays valid.

    With a `tail` (the instance's `EventTail` and what this stream may see) the events come
    from it while it reaches back far enough, several in one write; otherwise, and to catch up
    from further back, from `read_batch(after)` (at most BATCH rows of the table, in seq order),
    woken by this instance's commits."""
    newest = await state.db.read(newest_seq)
    if start is None:
        start = newest
    elif start > newest:  # a log reset or restored since, or another server's id
        raise InvalidInput(
            f"Event {start} is after the newest event ({newest}): this server's log does not "
            f"have it. Reconnect without Last-Event-ID, or after {newest}.",
            errors=[
                {
                    "loc": ["header", "Last-Event-ID"],
                    "msg": "after the newest event",
                    "type": "range",
                }
            ],
        )
    session_checked = time.monotonic()
    poll_seconds = state.settings.sse_poll_seconds

    async def session_ended() -> bool:
        nonlocal session_checked
        if time.monotonic() - session_checked < SESSION_CHECK_SECONDS:
            return False
        session_checked = time.monotonic()
        return not await session_still_valid(state, session)

    async def stream() -> AsyncIterator[ServerSentEvent | bytes]:
        state.stream_clients += 1
        try:
            with tail[0].subscribed() if tail is not None else contextlib.nullcontext():
                async with contextlib.aclosing(events_after(start)) as items:
                    async for item in items:
                        yield item
        finally:
            state.stream_clients -= 1

    async def events_after(start: int) -> AsyncGenerator[ServerSentEvent | bytes, None]:
        yield ServerSentEvent(comment="connected", retry=RETRY_MS)
        position = start  # every event up to here was sent, or is not this stream's
        while True:
            if tail is not None and tail[0].covers(position):
                held, head = tail[0].after(position, tail[1]), tail[0].head
                if held:
                    yield b"".join(event.frame for event in held)
                position = max(position, head or position)
                if await session_ended():
                    return
                await tail[0].wait_beyond(position, poll_seconds)
                continue
            reached = tail[0].head if tail is not None else None
            if tail is not None:  # catching up: a few streams at a time, the requests go first
                async with state.catch_up_slots:
                    rows = await read_batch(position)
            else:
                rows = await read_batch(position)
            if rows:
                position = rows[-1].seq
                yield b"".join(row.frame for row in rows)
            if await session_ended():
                return
            if len(rows) < BATCH:
                # no more of this stream's events up to what the tail had read before
                position = max(position, reached or position)
                if await request.is_disconnected():
                    return
                if tail is None:
                    await state.notifier.wait_at_most(poll_seconds)
                elif not tail[0].covers(position):  # the tail is starting up
                    await tail[0].wait_beyond(position, poll_seconds)

    return EventSourceResponse(
        stream(),
        ping=int(state.settings.sse_heartbeat_seconds),
        headers={"Cache-Control": "no-store"},
    )
