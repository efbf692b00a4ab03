"""Provides `EventStream`: the live event log as an async iterator that survives disconnects.

It reads `GET /api/v1/events` (Server-Sent Events) with httpx-sse and reconnects on its own:
after a drop it waits the server's `retry:` time (growing with jittered backoff while the
server stays away), resends `Last-Event-ID`, and skips anything it has already yielded, so each
event comes out exactly once and in sequence order. Its connection state (connected /
reconnecting / offline) is reported to listeners and through `states()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError
from pydantic import ValidationError

from api_client.client import Client
from api_client.errors import (
    ApiError,
    InvalidResponse,
    Unavailable,
    error_from_response,
    error_from_transport,
)
from api_client.models import Event

__all__ = ["ConnectionState", "EventStream", "ReconnectPolicy"]

EVENTS_PATH = "/api/v1/events"


class ConnectionState(enum.StrEnum):
    """How the stream stands, for the status bar."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    CLOSED = "closed"


@dataclass(frozen=True)
class ReconnectPolicy:
    """How long to wait between connection attempts.

    The first wait is the server's `retry:` time (or `initial` before the server named one);
    each failed attempt doubles it, up to `max_delay`, with +-`jitter` spread. After
    `offline_after` failed attempts in a row the state becomes offline (attempts go on).
    """

    initial: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.2
    offline_after: int = 3
    read_timeout: float = 45.0
    connect_timeout: float = 5.0

    def delay(self, base: float, failures: int) -> float:
        raw = min(self.max_delay, base * (2 ** max(0, failures - 1)))
        spread = raw * self.jitter
        return max(0.0, raw + random.uniform(-spread, spread))


StateListener = Callable[[ConnectionState], None]


class _StreamFailed(Exception):
    """A connection ended or could not be opened; the stream will try again."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


class EventStream:
    """Iterate with `async for event in stream`; stop with `await stream.aclose()`.

    `after` is the last sequence number already seen (None: start at the newest event; until the
    first event arrives a reconnect starts at the newest again, so pass the `seq` your snapshot
    was taken at when nothing may be missed). `path` names another stream of the same shape
    (the call display's `/api/v1/display/events`). Authentication and permission errors end the
    iteration with the typed exception; network trouble never does.
    """

    def __init__(
        self,
        client: Client,
        *,
        after: int | None = None,
        policy: ReconnectPolicy | None = None,
        on_state: StateListener | None = None,
        path: str = EVENTS_PATH,
    ) -> None:
        self._client = client
        self.path = path
        self.last_id = after
        self.policy = policy or ReconnectPolicy()
        self.retry_delay = self.policy.initial
        self.state = ConnectionState.CONNECTING
        self.last_error: ApiError | None = None
        self.reconnects = 0
        self._listeners: list[StateListener] = [on_state] if on_state else []
        self._queues: list[asyncio.Queue[ConnectionState]] = []
        self._response: httpx.Response | None = None
        self._closed = False

    # -- state ---------------------------------------------------------------------------

    def add_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call `listener` on every state change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def states(self) -> AsyncIterator[ConnectionState]:
        """The current state, then every change, until the stream is closed."""
        queue: asyncio.Queue[ConnectionState] = asyncio.Queue()
        self._queues.append(queue)
        try:
            yield self.state
            while self.state is not ConnectionState.CLOSED:
                state = await queue.get()
                yield state
                if state is ConnectionState.CLOSED:
                    return
        finally:
            self._queues.remove(queue)

    def _set_state(self, state: ConnectionState) -> None:
        if state is self.state:
            return
        self.state = state
        for listener in list(self._listeners):
            listener(state)
        for queue in self._queues:
            queue.put_nowait(state)

    # -- control -------------------------------------------------------------------------

    async def aclose(self) -> None:
        self._closed = True
        await self.drop()
        self._set_state(ConnectionState.CLOSED)

    async def drop(self) -> None:
        """Close the current connection (the stream reconnects unless closed)."""
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):
                await response.aclose()

    # -- iteration -----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        failures = 0
        while not self._closed:
            try:
                async for event in self._connect_once():
                    failures = 0
                    yield event
                failures = 0
            except _StreamFailed as failed:
                failures += 1
                self.last_error = failed.error
            if self._closed:
                break
            await self._before_reconnect(failures)
        self._set_state(ConnectionState.CLOSED)

    async def _before_reconnect(self, failures: int) -> None:
        offline = failures >= self.policy.offline_after
        self._set_state(ConnectionState.OFFLINE if offline else ConnectionState.RECONNECTING)
        self.reconnects += 1
        await asyncio.sleep(self.policy.delay(self.retry_delay, max(1, failures)))

    def _request_headers(self) -> dict[str, str]:
        headers = {**self._client.auth_headers(), "Accept": "text/event-stream"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = str(self.last_id)
        return headers

    async def _connect_once(self) -> AsyncIterator[Event]:
        timeout = httpx.Timeout(
            self.policy.read_timeout, connect=self.policy.connect_timeout, pool=5.0
        )
        request = self._client.http.build_request(
            "GET", self.path, headers=self._request_headers(), timeout=timeout
        )
        try:
            response = await self._client.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _StreamFailed(error_from_transport(exc, self.path)) from exc
        self._response = response
        try:
            await self._check_opened(response)
            self._set_state(ConnectionState.CONNECTED)
            async for sse in EventSource(response).aiter_sse():
                event = self._accept(sse)
                if event is not None:
                    yield event
        except httpx.TransportError as exc:
            if not self._closed:
                raise _StreamFailed(error_from_transport(exc, self.path)) from exc
        except (httpx.StreamError, SSEError) as exc:
            if not self._closed:
                raise _StreamFailed(InvalidResponse(f"The event stream broke: {exc}")) from exc
        finally:
            self._response = None
            with contextlib.suppress(Exception):
                await response.aclose()

    async def _check_opened(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        await response.aread()
        error = error_from_response(response)
        if isinstance(error, Unavailable):
            raise _StreamFailed(error)
        self._set_state(ConnectionState.OFFLINE)
        self.last_error = error
        raise error

    def _accept(self, sse: ServerSentEvent) -> Event | None:
        if sse.retry is not None:
            self.retry_delay = sse.retry / 1000
        if not sse.data:
            return None
        try:
            event = Event.model_validate_json(sse.data)
        except ValidationError as exc:
            raise _StreamFailed(InvalidResponse("An event could not be read.")) from exc
        if self.last_id is not None and event.seq <= self.last_id:
            return None
        self.last_id = event.seq
        return event
