"""Provides `Outbox`: every change goes to local SQLite first, then to the server, exactly once.

The rules:
- `enqueue` writes the change (with a fresh idempotency key) before anything is sent; it is
  held for the undo window first (`undo` takes it back), then sent by a background drainer.
- An entry leaves `pending` only when the server has answered: 2xx → `sent`; a refusal
  (409, 412, 422 and other 4xx) → `conflict`, with the server's problem and current state, for
  the clerk to settle (`discard`, or `retry` with a new base version). Nothing is dropped.
- Network errors, timeouts, 429 and 5xx are retried with jittered backoff; a network failure
  stops the pass (the server is away) and the next pass starts again from the oldest entry, so
  entries go out in order. Later entries with the same ordering key ("ticket:5") wait behind an
  earlier unsettled one (pending or in conflict). With `concurrency` > 1, entries of different
  ordering keys may overtake each other; entries of one key never do.
- A 401 pauses the drain until `kick()` after a new login; the entries wait.
- The same key is resent after a crash or timeout, so the server applies each change once.
- `start()` drains what an earlier run left behind. `status`, `add_listener` and `watch`
  make the size, the held entries and the conflicts observable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from api_client.client import Client
from api_client.errors import (
    ApiError,
    IdempotencyInFlight,
    NetworkError,
    RateLimited,
    RequestTimeout,
    Unauthenticated,
    Unavailable,
)
from api_client.mutations import Mutation, MutationResult, new_idempotency_key
from workbench.outbox_db import EntryState, OutboxCounts, OutboxDB, OutboxEntry

__all__ = ["Backoff", "EntryState", "Outbox", "OutboxEntry", "OutboxStatus"]

log = logging.getLogger(__name__)

KEEP_SENT = 200
SENT_HISTORY_SECONDS = 3600.0
BATCH = 200


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1 of one entry: `initial * 2**(n-1)`, capped, +-jitter."""

    initial: float = 0.2
    cap: float = 2.0
    jitter: float = 0.2

    def delay(self, attempts: int) -> float:
        raw = min(self.cap, self.initial * 2 ** max(0, attempts - 1))
        return raw * random.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass(frozen=True)
class OutboxStatus:
    """What the status bar shows about the outbox."""

    pending: int = 0
    held: int = 0
    conflicts: int = 0
    blocked: str | None = None
    last_error: str | None = None

    @property
    def size(self) -> int:
        """Changes not yet confirmed by the server (held ones included)."""
        return self.pending


class _Verdict(Enum):
    ANSWERED = "answered"
    RETRY = "retry"
    STOP = "stop"


LOGIN_REQUIRED = "login required"
OFFLINE = "offline"


SentListener = Callable[[OutboxEntry, MutationResult], None]
StatusListener = Callable[[OutboxStatus], None]


class Outbox:
    """The offline outbox of one workstation; use `async with Outbox(...) as outbox:`."""

    def __init__(
        self,
        path: str | Path,
        client: Client,
        *,
        owner: str | None = None,
        undo_seconds: float = 5.0,
        backoff: Backoff | None = None,
        max_age_hours: float = 24.0,
        concurrency: int = 1,
        on_sent: SentListener | None = None,
    ) -> None:
        self.db = OutboxDB(path)
        self.client = client
        self.owner = owner
        self.undo_seconds = undo_seconds
        self.backoff = backoff or Backoff()
        self.max_age_seconds = max_age_hours * 3600
        self.concurrency = max(1, concurrency)
        self.status = OutboxStatus()
        self._sent_listeners: list[SentListener] = [on_sent] if on_sent else []
        self._status_listeners: list[StatusListener] = []
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._blocked: str | None = None
        self._last_error: str | None = None
        self._offline_failures = 0
        self._resume_at = 0.0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Outbox:
        """Start the drainer (it first sends whatever an earlier run left)."""
        await self._refresh()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-drain")
        return self

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self.db.close)

    async def __aenter__(self) -> Outbox:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def kick(self) -> None:
        """Try now (after a login, or when the event stream is connected again)."""
        self._blocked = None
        self._resume_at = 0.0
        self._wake.set()

    def set_owner(self, owner: str | None) -> None:
        """Send the entries of this user (with the client's current token)."""
        self.owner = owner
        self.kick()

    # -- the clerk's side ----------------------------------------------------------------

    async def enqueue(
        self, mutation: Mutation, *, hold: bool = True, idempotency_key: str | None = None
    ) -> OutboxEntry:
        """Store a change durably, then let the drainer send it (after the undo window)."""
        now = time.time()
        not_before = now + (self.undo_seconds if hold else 0.0)
        key = idempotency_key or new_idempotency_key()

        def add() -> tuple[OutboxEntry, OutboxCounts]:
            entry = self.db.add(mutation, key=key, owner=self.owner, now=now, not_before=not_before)
            return entry, self.db.counts(time.time())

        entry, counts = await asyncio.to_thread(add)
        self._publish(counts)
        self._wake.set()
        return entry

    async def record_sent(self, mutation: Mutation, status: int, body: Any = None) -> OutboxEntry:
        """Keep a change sent directly (not through the queue) in the outbox's record."""
        now = time.time()

        def add() -> OutboxEntry:
            entry = self.db.add(
                mutation, key=new_idempotency_key(), owner=self.owner, now=now, not_before=now
            )
            self.db.mark_sent(entry.id, status, body, now)
            return entry

        return await asyncio.to_thread(add)

    async def undo(self, entry_id: int) -> bool:
        """Take back a held change; False when its window has passed (it is being sent)."""
        undone = await asyncio.to_thread(self.db.undo, entry_id, time.time())
        if undone:
            await self._changed_now()
        return undone

    async def send_now(self, entry_id: int) -> bool:
        """Close a held change's undo window early."""
        released = await asyncio.to_thread(self.db.release, entry_id, time.time())
        if released:
            await self._changed_now()
        return released

    async def conflicts(self) -> list[OutboxEntry]:
        return await asyncio.to_thread(self.db.entries, EntryState.CONFLICT)

    async def entries(self, state: EntryState | None = None) -> list[OutboxEntry]:
        return await asyncio.to_thread(self.db.entries, state)

    async def get(self, entry_id: int) -> OutboxEntry | None:
        return await asyncio.to_thread(self.db.get, entry_id)

    async def discard(self, entry_id: int) -> bool:
        """Settle a conflict by dropping the change (the server's state stands)."""
        done = await asyncio.to_thread(self.db.discard, entry_id)
        if done:
            await self._changed_now()
        return done

    async def retry(self, entry_id: int, *, base_version: int | None = None) -> bool:
        """Settle a conflict by sending the change again, based on `base_version`."""
        done = await asyncio.to_thread(
            self.db.requeue,
            entry_id,
            key=new_idempotency_key(),
            base_version=base_version,
            now=time.time(),
        )
        if done:
            await self._changed_now()
        return done

    async def wait_for(self, entry_id: int) -> OutboxEntry | None:
        """Wait until the server has answered an entry (None if it was undone or discarded).

        Bound the wait with `asyncio.timeout`: while offline, the answer can take a long time.
        """
        while True:
            changed = self._changed
            entry = await self.get(entry_id)
            if entry is None or entry.state is not EntryState.PENDING:
                return entry
            await changed.wait()

    async def wait_idle(self) -> OutboxStatus:
        """Wait until nothing is pending (conflicts may remain); bound it with asyncio.timeout."""
        while True:
            await self._refresh()
            changed = self._changed
            if self.status.pending == 0:
                return self.status
            await changed.wait()

    # -- observing -----------------------------------------------------------------------

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call `listener` with the new status after every change; returns the unsubscriber."""
        self._status_listeners.append(listener)
        return lambda: self._status_listeners.remove(listener)

    def add_sent_listener(self, listener: SentListener) -> Callable[[], None]:
        """Call `listener` with each entry the server accepted and its answer."""
        self._sent_listeners.append(listener)
        return lambda: self._sent_listeners.remove(listener)

    async def watch(self) -> AsyncIterator[OutboxStatus]:
        """The status now, then after every change."""
        while True:
            changed = self._changed
            yield self.status
            await changed.wait()

    async def _changed_now(self) -> None:
        await self._refresh()
        self._wake.set()

    async def _refresh(self) -> None:
        self._publish(await asyncio.to_thread(self.db.counts, time.time()))

    async def _write(self, change: Callable[..., object], *args: object) -> None:
        """Apply one change to the file and publish the new counts (one worker-thread hop)."""

        def both() -> OutboxCounts:
            change(*args)
            return self.db.counts(time.time())

        self._publish(await asyncio.to_thread(both))

    def _publish(self, counts: OutboxCounts) -> None:
        status = OutboxStatus(
            pending=counts.pending,
            held=counts.held,
            conflicts=counts.conflicts,
            blocked=self._blocked,
            last_error=self._last_error,
        )
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        if status != self.status:
            self.status = status
            for listener in list(self._status_listeners):
                listener(status)

    # -- the drainer ---------------------------------------------------------------------

    async def _run(self) -> None:
        await asyncio.to_thread(self.db.prune_sent, time.time() - SENT_HISTORY_SECONDS, KEEP_SENT)
        while True:
            self._wake.clear()
            if self._blocked != LOGIN_REQUIRED and time.time() >= self._resume_at:
                try:
                    await self.drain_once()
                except Exception as exc:  # a bug must not end the drain: log it, back off
                    log.exception("the outbox drain failed; trying again shortly")
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    self._resume_at = time.time() + self.backoff.cap
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        timeout: float | None = None
        if self._blocked != LOGIN_REQUIRED:
            due = await asyncio.to_thread(self.db.next_due, self.owner)
            if due is not None:
                timeout = max(0.0, max(due, self._resume_at) - time.time())
        if timeout == 0.0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def drain_once(self) -> int:
        """Send every entry that is due now; returns how many the server answered.

        Heads of different ordering keys go out `concurrency` at a time; entries of one key
        always one after the other.
        """
        answered = 0
        while True:
            due = await asyncio.to_thread(self.db.due_heads, self.owner, time.time(), BATCH)
            if not due:
                return answered
            for start in range(0, len(due), self.concurrency):
                chunk = due[start : start + self.concurrency]
                verdicts = await asyncio.gather(*(self._deliver(entry) for entry in chunk))
                answered += sum(v is _Verdict.ANSWERED for v in verdicts)
                if _Verdict.STOP in verdicts:
                    return answered

    async def _deliver(self, entry: OutboxEntry) -> _Verdict:
        if entry.attempts > 0 and time.time() - entry.created_at > self.max_age_seconds:
            await self._conflict(entry, _too_old(entry))
            return _Verdict.ANSWERED
        try:
            result = await self.client.send(
                entry.mutation, idempotency_key=entry.idempotency_key, retry=False
            )
        except ApiError as error:
            return await self._failed(entry, error)
        self._online()
        await self._write(self.db.mark_sent, entry.id, result.status, result.body, time.time())
        for listener in list(self._sent_listeners):
            listener(entry, result)
        return _Verdict.ANSWERED

    def _online(self) -> None:
        self._offline_failures = 0
        self._resume_at = 0.0
        self._blocked = None
        self._last_error = None

    async def _failed(self, entry: OutboxEntry, error: ApiError) -> _Verdict:
        self._last_error = str(error)
        if isinstance(error, Unauthenticated):
            self._blocked = LOGIN_REQUIRED
            await self._retry_later(entry, error, 0.0)
            return _Verdict.STOP
        if isinstance(error, NetworkError | RequestTimeout):
            self._offline_failures += 1
            self._blocked = OFFLINE
            self._resume_at = time.time() + self.backoff.delay(self._offline_failures)
            await self._retry_later(entry, error, 0.0)
            return _Verdict.STOP
        if isinstance(error, Unavailable | RateLimited | IdempotencyInFlight):
            delay = self.backoff.delay(entry.attempts + 1)
            if isinstance(error, RateLimited) and error.retry_after is not None:
                delay = max(delay, error.retry_after)
            await self._retry_later(entry, error, delay)
            return _Verdict.RETRY
        await self._conflict(entry, _problem_of(error))
        return _Verdict.ANSWERED

    async def _retry_later(self, entry: OutboxEntry, error: ApiError, delay: float) -> None:
        await self._write(self.db.mark_retry, entry.id, str(error), time.time() + delay)

    async def _conflict(self, entry: OutboxEntry, problem: dict[str, Any]) -> None:
        await self._write(self.db.mark_conflict, entry.id, problem, time.time())


def _problem_of(error: ApiError) -> dict[str, Any]:
    if error.problem is not None:
        return error.problem.model_dump(mode="json", exclude_none=True)
    return {"type": "about:blank", "title": error.message, "status": error.status or 0}


def _too_old(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Too old to send safely",
        "status": 0,
        "detail": (
            f"'{entry.label}' waited since {time.ctime(entry.created_at)}; the server may have "
            "forgotten its idempotency key, so check the record and retry or discard it."
        ),
    }
