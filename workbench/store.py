"""Provides `Store`: the workbench's state in one immutable `Snapshot` that screens subscribe to.

The store knows nothing of Textual. It is fed by API answers (`set_session`, `set_ticket`,
`set_work_list`, `apply_result`), by the event stream (`apply_event`, `set_connection`) and by
the outbox (`set_outbox`); each change makes a new snapshot and tells the subscribers, which
get the old and the new one so they can redraw only what differs.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api_client.event_stream import ConnectionState
from api_client.models import Case, Event, LoginResponse, Me, Ticket
from api_client.mutations import MutationResult
from workbench.hall_time import use_hall_timezone
from workbench.outbox import OutboxEntry, OutboxStatus

__all__ = ["Snapshot", "Store", "WorkItem"]

FINISHED = frozenset({"done", "no_show"})


@dataclass(frozen=True)
class WorkItem:
    """One ticket in the window's work list, kept current from the event stream."""

    id: int
    number: str
    status: str
    service_item: str
    window: str | None
    target_window: str | None
    priority_class: str | None
    version: int

    @classmethod
    def from_ticket(cls, ticket: Ticket) -> WorkItem:
        return cls(
            ticket.id,
            ticket.number,
            ticket.status,
            ticket.service_item,
            ticket.window,
            ticket.target_window,
            ticket.priority_class,
            ticket.version,
        )

    @classmethod
    def from_event(cls, event: Event) -> WorkItem:
        p = event.payload
        return cls(
            int(event.subject_id),
            str(p.get("number", "")),
            str(p.get("status", "")),
            str(p.get("service_item", "")),
            p.get("window"),
            p.get("target_window"),
            p.get("priority_class"),
            int(p.get("version", 0)),
        )


@dataclass(frozen=True)
class Snapshot:
    """Everything a screen may show, at one moment."""

    me: Me | None = None
    window: str | None = None
    service_items: frozenset[str] = frozenset()
    current_ticket: Ticket | None = None
    current_case: Case | None = None
    work_list: tuple[WorkItem, ...] = ()
    connection: ConnectionState = ConnectionState.CONNECTING
    outbox: OutboxStatus = field(default_factory=OutboxStatus)
    last_event_seq: int | None = None

    @property
    def waiting(self) -> int:
        return sum(1 for item in self.work_list if item.status == "waiting")


Subscriber = Callable[[Snapshot, Snapshot], None]


class Store:
    """Holds the current `Snapshot`; `subscribe` or `async for snap in store.watch()`."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()
        self._subscribers: list[Subscriber] = []
        self._changed = asyncio.Event()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber(old, new)` after every change; returns the unsubscriber."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    async def watch(self) -> AsyncIterator[Snapshot]:
        """The snapshot now, then after every change (intermediate ones may be skipped)."""
        while True:
            changed = self._changed
            yield self.snapshot
            await changed.wait()

    def update(self, **changes: Any) -> Snapshot:
        old = self.snapshot
        new = dataclasses.replace(old, **changes)
        if new == old:
            return old
        self.snapshot = new
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        for subscriber in list(self._subscribers):
            subscriber(old, new)
        return new

    # -- fed by API answers --------------------------------------------------------------

    def set_session(self, session: LoginResponse | Me | None) -> None:
        me = session.me if isinstance(session, LoginResponse) else session
        if me is None:
            self.update(me=None, window=None, current_ticket=None, current_case=None, work_list=())
            return
        use_hall_timezone(me.timezone)  # everything shown from now on is in the hall's time
        self.update(me=me, window=me.window)

    def set_service_items(self, codes: Iterable[str]) -> None:
        """The service items the window serves (decides which new tickets join the list)."""
        self.update(service_items=frozenset(codes))

    def set_ticket(self, ticket: Ticket | None) -> None:
        self.update(current_ticket=ticket)
        if ticket is not None:
            self._upsert(WorkItem.from_ticket(ticket))

    def set_case(self, case: Case | None) -> None:
        self.update(current_case=case)

    def set_work_list(self, tickets: Iterable[Ticket]) -> None:
        items = [WorkItem.from_ticket(t) for t in tickets if t.status not in FINISHED]
        self.update(work_list=tuple(sorted(items, key=lambda item: item.id)))

    def set_connection(self, state: ConnectionState) -> None:
        self.update(connection=state)

    def set_outbox(self, status: OutboxStatus) -> None:
        self.update(outbox=status)

    def apply_result(self, entry: OutboxEntry, result: MutationResult) -> None:
        """An outbox entry the server accepted: a ticket or case answer becomes current."""
        if not isinstance(result.body, dict):
            return
        if entry.path.startswith(("/api/v1/tickets/", "/api/v1/windows/")) and "number" in (
            result.body
        ):
            ticket = _parse(Ticket, result.body)
            if ticket is not None and ticket.window == self.snapshot.window:
                self.set_ticket(ticket)
        elif entry.path.startswith("/api/v1/cases"):
            body = result.body.get("case", result.body)
            case = _parse(Case, body) if isinstance(body, dict) else None
            if case is not None:
                self.set_case(case)

    # -- fed by the event stream ---------------------------------------------------------

    def apply_event(self, event: Event) -> None:
        """Fold one event of the live stream into the snapshot."""
        if event.subject_type == "ticket" and event.subject_id.isdigit():
            self._apply_ticket_event(event)
        self.update(last_event_seq=event.seq)

    def _apply_ticket_event(self, event: Event) -> None:
        item = WorkItem.from_event(event)
        current = self.snapshot.current_ticket
        if current is not None and current.id == item.id and item.version >= current.version:
            self.update(
                current_ticket=current.model_copy(
                    update={"status": item.status, "version": item.version, "window": item.window}
                )
            )
        if self._belongs_here(item):
            self._upsert(item)
        else:
            self._remove(item.id)

    def _belongs_here(self, item: WorkItem) -> bool:
        window = self.snapshot.window
        if item.status in FINISHED or window is None:
            return False
        if item.window == window or item.target_window == window:
            return True
        return (
            item.status == "waiting"
            and item.target_window is None
            and item.service_item in self.snapshot.service_items
        )

    def _upsert(self, item: WorkItem) -> None:
        items = {existing.id: existing for existing in self.snapshot.work_list}
        old = items.get(item.id)
        if old is not None and old.version > item.version:
            return
        items[item.id] = item
        self.update(work_list=tuple(sorted(items.values(), key=lambda i: i.id)))

    def _remove(self, ticket_id: int) -> None:
        remaining = tuple(i for i in self.snapshot.work_list if i.id != ticket_id)
        if len(remaining) != len(self.snapshot.work_list):
            self.update(work_list=remaining)


def _parse(model: type[Ticket] | type[Case], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError:
        return None
