"""Provides `EventTail`: the newest events, read from the table once per instance for all of
its event streams.

Every clerk's workbench and every supervisor's board keeps a stream open, so an instance may
serve hundreds. Each stream reading the table on every wake-up, and encoding each event for
itself, made open streams cost more than the clerks' calls (`bench/streams.py`). The tail reads
the rows after the newest it holds whenever this instance commits, a NOTIFY arrives, or
`poll_seconds` pass; it keeps the last `capacity` events, each already encoded as its stream
line. Streams take from it what is newer than their position and theirs to see; a stream
further behind than the tail reaches (a resume after a long absence) reads the table itself
until it is within reach. The rows stay the truth: the tail holds nothing the table does not.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sse_starlette import ServerSentEvent

from backend.db.engine import Database
from backend.db.schema import chain_head, events
from backend.events.notifier import EventNotifier
from backend.events.wire import event_to_wire, hall_codes

READ_BATCH = 500
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TailEvent:
    seq: int
    hall_id: int | None
    frame: bytes  # the event as its stream sends it (id, event and data lines)


def encode_event(row: dict[str, Any]) -> str:
    return json.dumps(row, default=_json_default, ensure_ascii=False)


def event_frame(row: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=encode_event(row), event=row["type"], id=str(row["seq"]))


def _json_default(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def newest_seq(conn: Connection) -> int:
    return int(conn.execute(select(chain_head.c.seq).where(chain_head.c.id == 1)).scalar() or 0)


def encoded_events(conn: Connection, rows: Sequence[Any]) -> list[TailEvent]:
    """Rows of the events table as their stream frames (run on a read thread)."""
    codes = hall_codes(conn) if rows else {}
    return [
        TailEvent(row.seq, row.hall_id, event_frame(event_to_wire(row, codes)).encode())
        for row in rows
    ]


def _rows_after(conn: Connection, after: int) -> list[TailEvent]:
    statement = select(events).where(events.c.seq > after).order_by(events.c.seq)
    return encoded_events(conn, conn.execute(statement.limit(READ_BATCH)).all())


class EventTail:
    """The newest `capacity` events, for the streams of this instance (see the module)."""

    def __init__(
        self, db: Database, notifier: EventNotifier, poll_seconds: float, capacity: int = 10_000
    ) -> None:
        self._db = db
        self._notifier = notifier
        self._poll_seconds = poll_seconds
        self._capacity = capacity
        self._seqs: list[int] = []
        self._events: list[TailEvent] = []
        # every event after `floor` and up to `head` is held (None: nothing read yet)
        self.floor: int | None = None
        self.head: int | None = None
        self._arrived = asyncio.Event()
        self.subscribers = 0  # the streams following now: with none, nothing is read or held
        self._wanted = asyncio.Event()

    @contextmanager
    def subscribed(self) -> Iterator[None]:
        """Follow the tail for as long as the context is open (a stream's lifetime)."""
        self.subscribers += 1
        self._wanted.set()
        try:
            yield
        finally:
            self.subscribers -= 1

    # -- reading -------------------------------------------------------------------------

    async def read_new(self) -> None:
        """Read the rows committed after `head` (all of them, in batches)."""
        if self.head is None:
            self.floor = self.head = await self._db.read(newest_seq)
            self._announce()
        while True:
            batch = await self._db.read(_rows_after, self.head)
            if batch:
                self._hold(batch)
            if len(batch) < READ_BATCH:
                return

    def _hold(self, batch: list[TailEvent]) -> None:
        self._events.extend(batch)
        self._seqs.extend(event.seq for event in batch)
        self.head = batch[-1].seq
        if len(self._events) > 2 * self._capacity:  # trimmed in bulk: amortised O(1)
            dropped = len(self._events) - self._capacity
            self.floor = self._seqs[dropped - 1]
            del self._events[:dropped], self._seqs[:dropped]
        self._announce()

    def _announce(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    def _forget(self) -> None:
        self.floor = self.head = None
        self._events.clear()
        self._seqs.clear()

    async def follow_the_table(self) -> None:
        """The reader: wakes on this instance's commits, on NOTIFY, or every `poll_seconds`,
        while streams follow; with none, it forgets what it held and sleeps until one comes
        (an instance without streams, e.g. one only the clerks' calls reach, reads nothing)."""
        while True:
            if self.subscribers == 0:
                self._forget()
                self._wanted.clear()
                await self._wanted.wait()
            try:
                await self.read_new()
            except Exception as exc:  # the database away for a moment: streams wait, then resume
                log.warning("reading the new events failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(self._poll_seconds)
                continue
            await self._notifier.wait_at_most(self._poll_seconds)

    # -- for the streams -----------------------------------------------------------------

    def covers(self, position: int) -> bool:
        """Whether every event after `position` (up to `head`) is held here."""
        return self.floor is not None and position >= self.floor

    def after(self, position: int, visible: Callable[[TailEvent], bool]) -> list[TailEvent]:
        """The held events after `position` that `visible` lets through, in seq order."""
        start = bisect.bisect_right(self._seqs, position)
        return [event for event in self._events[start:] if visible(event)]

    async def wait_beyond(self, position: int, seconds: float) -> None:
        """Return once an event after `position` is held, or after `seconds`."""
        if self.head is not None and self.head > position:
            return
        arrived = self._arrived
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), seconds)


@asynccontextmanager
async def event_tail(
    db: Database, notifier: EventNotifier, poll_seconds: float, capacity: int
) -> AsyncIterator[EventTail]:
    """An `EventTail` whose reader runs while the context is open."""
    tail = EventTail(db, notifier, poll_seconds, capacity)
    reader = asyncio.create_task(tail.follow_the_table(), name="event-tail")
    try:
        yield tail
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
