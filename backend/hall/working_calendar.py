"""Provides the working-day calendar and the clock of a case's promised time limit.

A year's calendar is a TOML file (one per year) with the public holidays and the make-up working
days (调休) that the State Council publishes:

    year = 2026
    holidays = [{ name = "国庆节 National Day", from = 2026-10-01, to = 2026-10-07 }]
    makeup_workdays = [2026-10-10]

`holidays` are ranges of days off, weekend days inside them included; `makeup_workdays` are
Saturdays or Sundays that are working days. Every other Saturday and Sunday is a day off. For a
year with no file the calendar falls back to plain Monday to Friday.

Counting rules (the same everywhere in this module):

- A count of working days never includes its starting day: accepting a case on day A with a time
  limit of N working days gives the N-th working day strictly after A.
- `working_days_between(a, b)` counts the working days in (a, b], so it undoes
  `add_working_days`.
- A pause (supplement requested on day P, supplement arrived on day R) stops the clock for the
  days in (P, R]: day P still counts, days P+1 to R do not, and counting restarts on R+1 - as if
  the case were accepted anew on R with the remaining days.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

ONE_DAY = timedelta(days=1)
SATURDAY = 5

ClockStatus = Literal["on_track", "due_soon", "overdue", "paused"]
PausedSpan = tuple[date, date | None]


class CalendarError(ValueError):
    """A calendar file is missing, unreadable or malformed, or two files cover the same year."""


class _HolidayRange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str
    first: date = Field(alias="from")
    last: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last < self.first:
            raise ValueError(f"`to` ({self.last}) is before `from` ({self.first})")
        return self

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += ONE_DAY


class _CalendarFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    year: int = Field(ge=1900, le=2999)
    holidays: list[_HolidayRange] = []
    makeup_workdays: list[date] = []

    @field_validator("holidays")
    @classmethod
    def _holidays_in_year(
        cls, ranges: list[_HolidayRange], info: ValidationInfo
    ) -> list[_HolidayRange]:
        year = info.data.get("year")
        for index, holiday in enumerate(ranges):
            if year is not None and {holiday.first.year, holiday.last.year} != {year}:
                raise ValueError(f"range {index} ({holiday.name}) is not inside {year}")
        return ranges

    @field_validator("makeup_workdays")
    @classmethod
    def _makeup_on_weekends(cls, days: list[date], info: ValidationInfo) -> list[date]:
        year = info.data.get("year")
        for day in days:
            if year is not None and day.year != year:
                raise ValueError(f"{day} is not inside {year}")
            if day.weekday() < SATURDAY:
                raise ValueError(f"{day} is a weekday, not a Saturday or Sunday")
        return days

    @model_validator(mode="after")
    def _makeup_not_a_holiday(self) -> Self:
        for holiday in self.holidays:
            clash = set(holiday.days()) & set(self.makeup_workdays)
            if clash:
                day = min(clash)
                raise ValueError(f"makeup_workdays: {day} is inside holiday {holiday.name!r}")
        return self


def _describe(error: ValidationError) -> str:
    parts = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail["loc"])
        message = detail["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _parse(label: str, raw: bytes) -> _CalendarFile:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalendarError(f"{label}: not valid UTF-8 TOML: {exc}") from exc
    try:
        return _CalendarFile.model_validate(data)
    except ValidationError as exc:
        raise CalendarError(f"{label}: {_describe(exc)}") from exc


def _read(source: Path | Traversable) -> tuple[str, _CalendarFile]:
    label = str(source)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CalendarError(f"{label}: cannot read calendar file: {exc}") from exc
    return label, _parse(label, raw)


def _toml_files(directory: Path | Traversable) -> list[Path | Traversable]:
    if not directory.is_dir():
        raise CalendarError(f"{directory}: calendar directory not found")
    found = [entry for entry in directory.iterdir() if entry.name.endswith(".toml")]
    return sorted(found, key=lambda entry: entry.name)


def packaged_calendar_dir() -> Traversable:
    """The directory of calendar files shipped with the backend package."""
    return files("backend") / "data" / "calendars"


def _weekdays_through(day: date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday) through `day`."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days: Monday to Friday, minus public holidays, plus make-up working days."""

    years: frozenset[int] = frozenset()
    days_off: frozenset[date] = field(default=frozenset(), repr=False)
    makeup_workdays: frozenset[date] = field(default=frozenset(), repr=False)

    @classmethod
    def load(cls, extra_dirs: Sequence[Path] = ()) -> WorkingCalendar:
        """Every `*.toml` in the packaged calendars directory and in each of `extra_dirs`."""
        directories: list[Path | Traversable] = [packaged_calendar_dir(), *extra_dirs]
        sources = [path for directory in directories for path in _toml_files(directory)]
        return cls._build(_read(source) for source in sources)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> WorkingCalendar:
        """Exactly the given calendar files (nothing packaged)."""
        return cls._build(_read(path) for path in paths)

    @classmethod
    def _build(cls, parsed: Iterable[tuple[str, _CalendarFile]]) -> WorkingCalendar:
        seen: dict[int, str] = {}
        days_off: set[date] = set()
        makeup: set[date] = set()
        for label, calendar in parsed:
            if calendar.year in seen:
                raise CalendarError(
                    f"{label}: year {calendar.year} is already covered by {seen[calendar.year]}"
                )
            seen[calendar.year] = label
            days_off.update(day for holiday in calendar.holidays for day in holiday.days())
            makeup.update(calendar.makeup_workdays)
        return cls(frozenset(seen), frozenset(days_off), frozenset(makeup))

    def covers(self, year: int) -> bool:
        """Whether a calendar file was loaded for `year` (otherwise plain Monday to Friday)."""
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day.weekday() < SATURDAY and day not in self.days_off

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += ONE_DAY
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day strictly after `start`; `start` itself when `days` is 0."""
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        for _ in range(days):
            start = self.next_working_day(start)
        return start

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; minus the working days in (end, start] if end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        weekdays = _weekdays_through(end) - _weekdays_through(start)
        extra = sum(1 for day in self.makeup_workdays if start < day <= end)
        lost = sum(1 for day in self.days_off if start < day <= end and day.weekday() < SATURDAY)
        return weekdays + extra - lost


def _pause_windows(spans: Sequence[PausedSpan], as_of: date | None) -> list[tuple[date, date]]:
    """Each span (P, R) as the inclusive range of days it takes off the clock: P+1 to R."""
    windows = []
    for requested, arrived in spans:
        if arrived is None:
            if as_of is None:
                raise ValueError(f"the pause from {requested} is still open: pass as_of")
            arrived = max(as_of, requested)
        if arrived < requested:
            raise ValueError(f"supplement arrived {arrived}, before it was requested {requested}")
        windows.append((requested + ONE_DAY, arrived))
    return windows


def _is_paused(day: date, windows: Sequence[tuple[date, date]]) -> bool:
    return any(first <= day <= last for first, last in windows)


@dataclass(frozen=True)
class ClockState:
    """The promised time limit of a case on a working calendar, with pauses for supplements."""

    calendar: WorkingCalendar

    def promised_deadline(
        self,
        accepted_on: date,
        days: int,
        paused_spans: Sequence[PausedSpan] = (),
        *,
        as_of: date | None = None,
    ) -> date:
        """The `days`-th working day after `accepted_on` that is not inside a pause.

        A span (P, R) means the supplement was requested on P and arrived on R: the working days
        P+1 to R do not count, counting restarts on R+1. An open span (P, None) is treated as
        ending on `as_of` (pass today: the deadline if the supplement arrived today); without
        `as_of` an open span is a ValueError. Spans may overlap or start before acceptance.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        windows = _pause_windows(paused_spans, as_of)
        day, remaining = accepted_on, days
        while remaining:
            day = self.calendar.next_working_day(day)
            if not _is_paused(day, windows):
                remaining -= 1
        return day

    def working_days_left(self, deadline: date, today: date) -> int:
        """Working days in (today, deadline]: 0 on the deadline, negative once past it."""
        return self.calendar.working_days_between(today, deadline)

    def clock_status(
        self,
        deadline: date,
        today: date,
        *,
        due_soon_days: int = 1,
        paused: bool = False,
    ) -> ClockStatus:
        """`paused`, else `overdue` after the deadline, else `due_soon` with at most
        `due_soon_days` working days left after today, else `on_track`."""
        if paused:
            return "paused"
        if today > deadline:
            return "overdue"
        if self.working_days_left(deadline, today) <= due_soon_days:
            return "due_soon"
        return "on_track"


def local_day(now: datetime, timezone: str) -> date:
    """The hall's calendar day at `now` (tickets are numbered per day)."""
    return now.astimezone(ZoneInfo(timezone)).date()
