"""Provides the hall's time: its now, its today, and instants written for a clerk or a citizen,
all in the hall's time zone (never the machine's), from this one place.

The hall's zone comes with the session (`Me.timezone`); `use_hall_timezone` sets it once after
login, and `hall_clock()` answers everywhere else. Stored and wire instants are UTC; a naive one
is read as UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DEFAULT_TIMEZONE", "HallClock", "hall_clock", "use_hall_timezone"]

DEFAULT_TIMEZONE = "Asia/Shanghai"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HallClock:
    """The hall's time zone and a source of the current instant (tests give a fixed one)."""

    timezone: str = DEFAULT_TIMEZONE
    utc_now: Callable[[], datetime] = field(default=_utc_now, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: datetime) -> datetime:
        """`instant` in the hall's zone (a naive instant is taken as UTC)."""
        aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def now(self) -> datetime:
        return self.local(self.utc_now())

    def today(self) -> date:
        return self.now().date()

    def time(self, instant: datetime | None = None, *, seconds: bool = False) -> str:
        """`HH:MM` (or `HH:MM:SS`) of `instant` (now by default) in the hall."""
        local = self.local(instant) if instant is not None else self.now()
        return local.strftime("%H:%M:%S" if seconds else "%H:%M")

    def day(self, instant: datetime | date | None = None) -> str:
        """`YYYY-MM-DD` of `instant`'s hall day (a `date` is already a hall day; today by
        default)."""
        if isinstance(instant, datetime):
            return self.local(instant).date().isoformat()
        return (instant or self.today()).isoformat()

    def moment(self, instant: datetime) -> str:
        """`YYYY-MM-DD HH:MM` in the hall, or just `HH:MM` when it is the hall's today."""
        local = self.local(instant)
        if local.date() == self.today():
            return local.strftime("%H:%M")
        return local.strftime("%Y-%m-%d %H:%M")


class _Current:
    def __init__(self) -> None:
        self.clock = HallClock()


_current = _Current()


def use_hall_timezone(timezone: str | None) -> HallClock:
    """Make `timezone` (the session's `Me.timezone`) the hall's zone from now on; an unknown or
    missing name keeps the default, so a wrong name never shows the machine's time."""
    name = timezone or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        name = DEFAULT_TIMEZONE
    _current.clock = HallClock(name, _current.clock.utc_now)
    return _current.clock


def hall_clock() -> HallClock:
    """The hall's clock of the session (the default zone before anyone logged in)."""
    return _current.clock
