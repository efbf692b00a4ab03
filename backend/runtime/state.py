"""Provides `AppState`, what one API instance holds: settings, database, clock and notifier."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

from backend.db.engine import Database
from backend.events.notifier import EventNotifier
from backend.runtime.clock import Clock
from backend.runtime.passwords import Passwords
from backend.runtime.settings import BackendSettings

if TYPE_CHECKING:
    from backend.events.tail import EventTail

T = TypeVar("T")


class PrincipalCache:
    """Recently verified tokens, so a burst of requests costs one look-up, not one each.

    An entry lives `seconds` (never past the token's own expiry). Logging out on this instance
    evicts at once, and so does a logout on another instance (PostgreSQL: its NOTIFY reaches
    `backend.server.pg_listener`); should that notification be lost, within `seconds`."""

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[datetime, Any]] = {}

    def get(self, digest: str, now: datetime) -> Any | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= now:
            self._entries.pop(digest, None)
            return None
        return entry[1]

    def put(self, digest: str, principal: Any, now: datetime) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        until = min(now + timedelta(seconds=self.seconds), principal.expires_at)
        self._entries[digest] = (until, principal)

    def evict(self, digest: str) -> None:
        self._entries.pop(digest, None)

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class AppState:
    settings: BackendSettings
    db: Database
    clock: Clock
    passwords: Passwords
    notifier: EventNotifier = field(default_factory=EventNotifier)
    principals: PrincipalCache = field(default_factory=lambda: PrincipalCache(0))
    in_flight_keys: set[tuple[int, str]] = field(default_factory=set)
    stream_clients: int = 0
    tail: EventTail | None = None  # the newest events, for the event streams (set when serving)
    # event streams reading the table to catch up from further back than the tail, at once
    catch_up_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a write transaction, then wake the event streams."""
        result = await self.db.write(fn, *args)
        self.notifier.notify()
        return result


async def app_state(request: Request) -> AppState:
    """The instance's state (async: FastAPI runs sync dependencies on a thread pool)."""
    state: AppState = request.app.state.workbench
    return state
