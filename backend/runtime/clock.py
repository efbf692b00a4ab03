"""Provides the server's clock: the time now, and the hall's local date for ticket numbering.

The app takes a `Clock` so tests can move time forward (a new day, an expired token) against the
real server instead of waiting for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass
class Clock:
    """Wall-clock time, optionally shifted by `offset` (only tests shift it)."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def local_date(self, timezone: str) -> date:
        return self.now().astimezone(ZoneInfo(timezone)).date()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
