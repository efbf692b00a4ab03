"""Provides `BoardService`: what the supervisor board asks of the hall, as plain async methods.

It shares the `DeskService`'s session (client, outbox, credentials): the snapshot comes from
`GET /board`, the stream continues from the snapshot's `seq` (so nothing is missed), and the
supervisor's actions go through the outbox like the clerk's, each with its ordering key.
Connection changes are timed, so the board can say it was offline and for how long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from api_client.event_stream import ConnectionState, EventStream
from api_client.models import Event, Ticket, TicketActionRequest
from api_client.models.board import CaseReassign, WindowClose
from api_client.mutations import Mutation, encode_body
from workbench.board_state import BoardState
from workbench.outbox import EntryState, OutboxEntry
from workbench.services import DeskService

__all__ = ["ActionResult", "BoardService", "Outage"]

ACTION_WAIT_SECONDS = 10.0
YIELD_EVERY = 100
"""Events handled in one go before the stream reader gives the event loop a turn."""


@dataclass(frozen=True)
class Outage:
    """A stretch without the event stream: from when, and how long (None while it lasts)."""

    started: float
    seconds: float | None = None


@dataclass(frozen=True)
class ActionResult:
    """How a supervisor action ended: sent, refused (with the server's word), or still queued."""

    label: str
    state: str
    detail: str | None = None


class BoardService:
    """The supervisor's board: snapshot, live events, and actions through the outbox."""

    def __init__(self, desk: DeskService) -> None:
        self.desk = desk
        self.stream: EventStream | None = None
        self.connection = ConnectionState.CONNECTING
        self.outage: Outage | None = None
        self.last_outage: Outage | None = None
        self._listeners: list[Callable[[ConnectionState], None]] = []

    async def snapshot(self) -> BoardState:
        return BoardState.from_board(await self.desk.ws.client.board())

    def add_state_listener(self, listener: Callable[[ConnectionState], None]) -> Callable[[], None]:
        """Call `listener` on every connection change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _state_changed(self, state: ConnectionState) -> None:
        self.connection = state
        now = time.monotonic()
        if state in (ConnectionState.RECONNECTING, ConnectionState.OFFLINE):
            if self.outage is None:
                self.outage = Outage(now)
        elif state is ConnectionState.CONNECTED and self.outage is not None:
            self.last_outage = Outage(self.outage.started, now - self.outage.started)
            self.outage = None
        if state is ConnectionState.CONNECTED:
            self.desk.ws.outbox.kick()
        for listener in list(self._listeners):
            listener(state)

    async def follow(self, after: int, on_event: Callable[[Event], None]) -> None:
        """Read the event stream after `after` until stopped, handing each event on."""
        stream = EventStream(
            self.desk.ws.client,
            after=after,
            policy=self.desk.stream_policy,
            on_state=self._state_changed,
        )
        self.stream = stream
        handled = 0
        try:
            async for event in stream:
                on_event(event)
                handled += 1
                if handled % YIELD_EVERY == 0:
                    # a backlog (a catch-up after a reconnect) is read without waiting on the
                    # socket: let the screen paint and take keys in between
                    await asyncio.sleep(0)
        finally:
            if self.stream is stream:
                self.stream = None

    async def stop(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            await stream.aclose()

    # -- actions ---------------------------------------------------------------------------

    async def _through_outbox(self, mutation: Mutation) -> ActionResult:
        entry = await self.desk.ws.submit(mutation, hold=False)
        try:
            async with asyncio.timeout(ACTION_WAIT_SECONDS):
                settled = await self.desk.ws.outbox.wait_for(entry.id)
        except TimeoutError:
            return ActionResult(mutation.label, "queued")
        return _result(mutation.label, settled)

    async def move_ticket(
        self,
        ticket_id: int,
        *,
        window: str | None = None,
        service_item: str | None = None,
        reason: str | None = None,
    ) -> ActionResult:
        """Send a waiting ticket to another window or queue; the server wants the `reason`
        (without it the move is refused) and refuses a paused or closed window."""
        body = TicketActionRequest(window=window, service_item=service_item, reason=reason)
        return await self._through_outbox(Mutation.ticket_action(ticket_id, "transfer", body))

    async def reactivate(self, ticket_id: int) -> ActionResult:
        return await self._through_outbox(Mutation.ticket_action(ticket_id, "reactivate"))

    async def close_window(self, window: str, reason: str | None = None) -> ActionResult:
        mutation = Mutation(
            "POST",
            f"/api/v1/windows/{window}/close",
            encode_body(WindowClose(reason=reason)),
            ordering_key=f"window:{window}",
            label=f"close {window}",
        )
        return await self._through_outbox(mutation)

    async def reassign(self, case_id: int, assignee: str, *, version: int) -> ActionResult:
        mutation = Mutation(
            "POST",
            f"/api/v1/cases/{int(case_id)}/reassign",
            encode_body(CaseReassign(assignee=assignee)),
            version,
            ordering_key=f"case:{int(case_id)}",
            label=f"reassign case {case_id} to {assignee}",
        )
        return await self._through_outbox(mutation)

    async def acknowledge_alarm(self, alarm_id: int) -> ActionResult:
        return await self._through_outbox(Mutation.acknowledge_alarm(alarm_id))

    async def waiting_ticket(self, ticket_id: int) -> Ticket:
        return await self.desk.ws.client.ticket(ticket_id)

    def clerks(self) -> list[str]:
        """The clerks a case can go to: those logged in at a window, then the rest."""
        return sorted({w.clerk for w in self.desk.windows.values() if w.clerk})


def _result(label: str, entry: OutboxEntry | None) -> ActionResult:
    if entry is None:
        return ActionResult(label, "discarded")
    if entry.state is EntryState.SENT:
        return ActionResult(label, "sent")
    if entry.state is EntryState.CONFLICT:
        problem = entry.problem or {}
        detail = problem.get("detail") or problem.get("title") or entry.last_error
        return ActionResult(label, "refused", str(detail) if detail else None)
    return ActionResult(label, "queued")
