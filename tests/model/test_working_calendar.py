"""Tests the working-day calendar and the promised-time-limit clock."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from backend.hall.working_calendar import CalendarError, ClockState, WorkingCalendar

CALENDAR_2027 = """
year = 2027
holidays = [{ name = "元旦 New Year's Day", from = 2027-01-01, to = 2027-01-03 }]
makeup_workdays = [2027-01-09]  # Saturday
"""


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.load()


@pytest.fixture(scope="module")
def clock(calendar: WorkingCalendar) -> ClockState:
    return ClockState(calendar)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_calendar_covers_2026_only(calendar: WorkingCalendar) -> None:
    assert calendar.covers(2026)
    assert not calendar.covers(2025)
    assert not calendar.covers(2027)


def test_national_day_week(calendar: WorkingCalendar) -> None:
    # Accepted Wednesday 2026-09-30, 5 working days, counting from the day after:
    #   Oct 1-7 holiday (off), Oct 8 Thu = 1, Oct 9 Fri = 2, Oct 10 Sat (make-up) = 3,
    #   Oct 11 Sun (off), Oct 12 Mon = 4, Oct 13 Tue = 5.
    assert calendar.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert not any(calendar.is_working_day(date(2026, 10, day)) for day in range(1, 8))
    assert calendar.is_working_day(date(2026, 10, 10))
    assert not calendar.is_working_day(date(2026, 10, 11))


def test_makeup_sunday_before_mid_autumn(calendar: WorkingCalendar) -> None:
    # Friday 2026-09-18 + 1: Sunday 2026-09-20 is a make-up working day.
    assert calendar.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    # Thursday 2026-09-24 + 1: Sep 25-27 (Fri-Sun) are off -> Monday Sep 28.
    assert calendar.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)


def test_spring_festival_with_makeup_saturdays(calendar: WorkingCalendar) -> None:
    # Friday Feb 13 + 3: Sat Feb 14 (make-up) = 1, Feb 15-23 off, Tue Feb 24 = 2, Wed Feb 25 = 3.
    assert calendar.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    # Thursday Feb 26 + 3: Fri Feb 27 = 1, Sat Feb 28 (make-up) = 2, Sun Mar 1 off, Mon Mar 2 = 3.
    assert calendar.add_working_days(date(2026, 2, 26), 3) == date(2026, 3, 2)
    assert calendar.is_working_day(date(2026, 2, 14))
    assert calendar.is_working_day(date(2026, 2, 28))
    assert not calendar.is_working_day(date(2026, 2, 16))  # Monday inside the holiday
    assert not calendar.is_working_day(date(2026, 2, 21))  # Saturday inside the holiday


def test_weekends_are_skipped(calendar: WorkingCalendar) -> None:
    friday, saturday, monday = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 9)
    assert calendar.add_working_days(friday, 1) == monday
    assert calendar.add_working_days(saturday, 1) == monday
    assert calendar.next_working_day(friday) == monday
    assert calendar.next_working_day(date(2026, 3, 5)) == friday
    assert calendar.add_working_days(friday, 5) == date(2026, 3, 13)


def test_zero_days_is_the_start_and_negative_days_are_refused(calendar: WorkingCalendar) -> None:
    saturday = date(2026, 3, 7)
    assert calendar.add_working_days(saturday, 0) == saturday
    with pytest.raises(ValueError):
        calendar.add_working_days(saturday, -1)


def test_between_is_signed_and_excludes_the_start(calendar: WorkingCalendar) -> None:
    monday, friday = date(2026, 3, 2), date(2026, 3, 6)
    assert calendar.working_days_between(monday, friday) == 4
    assert calendar.working_days_between(friday, monday) == -4
    assert calendar.working_days_between(monday, monday) == 0


def test_working_days_in_2026(calendar: WorkingCalendar) -> None:
    # 261 weekdays, 19 of them inside holidays (2 + 6 + 1 + 3 + 1 + 1 + 5), 6 make-up days.
    assert calendar.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


def test_uncovered_years_fall_back_to_monday_to_friday(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_day(date(2027, 1, 1))  # a Friday; no 2027 file is packaged
    assert not calendar.is_working_day(date(2027, 1, 2))
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert WorkingCalendar().add_working_days(date(2026, 10, 1), 1) == date(2026, 10, 2)


def test_extra_dir_calendar_is_honoured(tmp_path: Path) -> None:
    write(tmp_path, "cn-2027.toml", CALENDAR_2027)
    calendar = WorkingCalendar.load([tmp_path])
    assert calendar.covers(2026) and calendar.covers(2027)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 9))
    # Thursday 2026-12-31 + 1: Jan 1-3 off -> Monday 2027-01-04.
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_from_files_loads_only_the_given_files(tmp_path: Path) -> None:
    calendar = WorkingCalendar.from_files([write(tmp_path, "cn-2027.toml", CALENDAR_2027)])
    assert calendar.years == {2027}
    assert calendar.is_working_day(date(2026, 10, 1))  # 2026 is not loaded: plain weekday


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            "year = 2027\nholidays = [{ name = 'x', from = 2027-01-03, to = 2027-01-01 }]",
            "holidays",
        ),
        (
            "year = 2027\nholidays = [{ name = 'x', from = 2026-12-31, to = 2027-01-01 }]",
            "holidays",
        ),
        ("year = 2027\nholidays = [{ name = 'x', from = '2027-01-01', to = 2027-01-01 }]", "from"),
        ("year = 2027\nholidays = [{ from = 2027-01-01, to = 2027-01-01 }]", "name"),
        ("year = 2027\nmakeup_workdays = [2027-01-04]", "makeup_workdays"),
        ("year = 2027\nmakeup_workdays = [2026-01-03]", "makeup_workdays"),
        ("holidays = []", "year"),
        ("year = 2027\nholiday = []", "holiday"),
        (
            "year = 2027\nholidays = [{ name = 'x', from = 2027-01-01, to = 2027-01-03 }]\n"
            "makeup_workdays = [2027-01-02]",
            "makeup_workdays",
        ),
        ("year = 2027\nholidays = [", "TOML"),
    ],
)
def test_malformed_file_names_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    write(tmp_path, "bad-2027.toml", text)
    with pytest.raises(CalendarError) as error:
        WorkingCalendar.load([tmp_path])
    message = str(error.value)
    assert "bad-2027.toml" in message
    assert field in message


def test_two_files_for_one_year_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "other-2026.toml", "year = 2026\n")
    with pytest.raises(CalendarError, match=r"other-2026\.toml.*2026.*cn-2026\.toml"):
        WorkingCalendar.load([tmp_path])


def test_missing_extra_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="not found"):
        WorkingCalendar.load([tmp_path / "nowhere"])


def test_add_and_between_agree_over_many_starts(calendar: WorkingCalendar) -> None:
    first = date(2025, 12, 1)
    for offset in range(430):
        start = first + timedelta(days=offset)
        for days in (0, 1, 2, 3, 5, 8, 13, 20, 40):
            end = calendar.add_working_days(start, days)
            assert calendar.working_days_between(start, end) == days
            assert calendar.working_days_between(end, start) == -days
            assert days == 0 or calendar.is_working_day(end)
            assert days == 0 or calendar.working_days_between(start, end - timedelta(1)) == days - 1


def test_between_matches_a_day_by_day_count(calendar: WorkingCalendar) -> None:
    rng = random.Random(2026)
    first = date(2025, 11, 1)
    for _ in range(300):
        start = first + timedelta(days=rng.randrange(500))
        end = start + timedelta(days=rng.randrange(120))
        brute = sum(
            calendar.is_working_day(start + timedelta(days=step))
            for step in range(1, (end - start).days + 1)
        )
        assert calendar.working_days_between(start, end) == brute


def test_deadline_without_pauses_is_add_working_days(clock: ClockState) -> None:
    assert clock.promised_deadline(date(2026, 9, 30), 5, []) == date(2026, 10, 13)


def test_pause_across_a_supplement(clock: ClockState) -> None:
    # Accepted Monday Mar 2, 10 working days -> Mar 16 without a pause.
    # Supplement requested Thu Mar 5 (Mar 3, 4, 5 counted = 3), arrived Wed Mar 11:
    # Mar 6, 9, 10, 11 do not count; counting restarts Thu Mar 12:
    # Mar 12 = 4, 13 = 5, 16 = 6, 17 = 7, 18 = 8, 19 = 9, 20 = 10.
    accepted = date(2026, 3, 2)
    assert clock.promised_deadline(accepted, 10, []) == date(2026, 3, 16)
    spans = [(date(2026, 3, 5), date(2026, 3, 11))]
    assert clock.promised_deadline(accepted, 10, spans) == date(2026, 3, 20)


def test_pause_across_holidays(clock: ClockState) -> None:
    # Accepted Mon Sep 21, 10 days. Sep 22, 23, 24 count (3); supplement requested Thu Sep 24,
    # arrived Fri Oct 9. Restart Sat Oct 10 (make-up) = 4, Oct 12 = 5 ... Oct 16 = 9, Oct 19 = 10.
    spans = [(date(2026, 9, 24), date(2026, 10, 9))]
    assert clock.promised_deadline(date(2026, 9, 21), 10, spans) == date(2026, 10, 19)


def test_pause_requested_and_answered_the_same_day_changes_nothing(clock: ClockState) -> None:
    spans = [(date(2026, 3, 5), date(2026, 3, 5))]
    assert clock.promised_deadline(date(2026, 3, 2), 10, spans) == date(2026, 3, 16)


def test_open_pause_needs_as_of_and_keeps_the_remaining_days(clock: ClockState) -> None:
    accepted, spans = date(2026, 3, 2), [(date(2026, 3, 5), None)]
    with pytest.raises(ValueError, match="as_of"):
        clock.promised_deadline(accepted, 10, spans)
    today = date(2026, 3, 9)
    deadline = clock.promised_deadline(accepted, 10, spans, as_of=today)
    assert deadline == date(2026, 3, 18)
    assert clock.working_days_left(deadline, today) == 7  # 10 minus the 3 used before the pause
    closed = [(date(2026, 3, 5), date(2026, 3, 11))]
    assert clock.promised_deadline(accepted, 10, spans, as_of=date(2026, 3, 11)) == (
        clock.promised_deadline(accepted, 10, closed)
    )


def test_pause_arriving_before_request_is_refused(clock: ClockState) -> None:
    with pytest.raises(ValueError):
        clock.promised_deadline(date(2026, 3, 2), 10, [(date(2026, 3, 5), date(2026, 3, 4))])


def test_clock_status(clock: ClockState) -> None:
    deadline = date(2026, 10, 13)  # Tuesday
    assert clock.clock_status(deadline, date(2026, 10, 9)) == "on_track"  # 10, 12, 13 left
    assert clock.clock_status(deadline, date(2026, 10, 11)) == "on_track"  # 12, 13 left
    assert clock.clock_status(deadline, date(2026, 10, 12)) == "due_soon"  # 13 left
    assert clock.clock_status(deadline, date(2026, 10, 13)) == "due_soon"  # the last day
    assert clock.clock_status(deadline, date(2026, 10, 14)) == "overdue"
    assert clock.clock_status(deadline, date(2026, 10, 9), due_soon_days=3) == "due_soon"
    assert clock.clock_status(deadline, date(2026, 10, 14), paused=True) == "paused"


def test_working_days_left(clock: ClockState) -> None:
    deadline = date(2026, 10, 13)
    assert clock.working_days_left(deadline, date(2026, 9, 30)) == 5
    assert clock.working_days_left(deadline, deadline) == 0
    assert clock.working_days_left(deadline, date(2026, 10, 15)) == -2
