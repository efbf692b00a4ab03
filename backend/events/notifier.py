"""Provides `EventNotifier`, which wakes this instance's event streams after a commit."""

from __future__ import annotations

import asyncio
import contextlib


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
