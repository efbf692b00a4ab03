"""One clock: the clerk's status bar shows the hall's time (the board, the display and the PDF
use it too), not the machine's. The tester's machine said 18:59 while the hall said 02:59."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from screens.widgets.status_bar import StatusBar
from tests.conftest import Backend
from tests.ui.test_clerk_flow import SIZE, log_in, make_app, settle
from workbench.hall_time import use_hall_timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def machine_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's own time zone, twelve or thirteen hours from the hall's."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
    use_hall_timezone(None)


async def test_the_status_bar_shows_the_halls_time_not_the_machines(
    fresh_backend: Backend, tmp_path: Path, machine_in_new_york: None
) -> None:
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        await settle(app, pilot)
        shown = app.screen.query_one(StatusBar).clock
        hall = datetime.now(UTC).astimezone(SHANGHAI)
        machine = datetime.now().astimezone()
        assert machine.utcoffset() != hall.utcoffset()
        assert shown[:2] in {hall.strftime("%H"), f"{(hall.hour + 1) % 24:02d}"}, shown
        assert shown[:2] != machine.strftime("%H"), (shown, machine)
