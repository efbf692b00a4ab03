"""Provides `AppState`, what one API instance holds: settings, database, clock and notifier."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request

from backend.clock import Clock
from backend.db.engine import Database, StorageFull
from backend.passwords import Passwords
from backend.problems import StorageUnavailable
from backend.settings import BackendSettings

T = TypeVar("T")


class EventNotifier:
    """Wakes every waiting event stream when this instance has committed new events."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_at_most(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)


@dataclass
class AppState:
    settings: BackendSettings
    db: Database
    clock: Clock
    passwords: Passwords
    notifier: EventNotifier = field(default_factory=EventNotifier)
    in_flight_keys: set[tuple[int, str]] = field(default_factory=set)
    stream_clients: int = 0

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a write transaction, then wake the event streams."""
        try:
            result = await self.db.write(fn, *args)
        except StorageFull as exc:
            raise StorageUnavailable(
                "The database's disk is full; the change was not saved. Try again later."
            ) from exc
        self.notifier.notify()
        return result


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.workbench
    return state
