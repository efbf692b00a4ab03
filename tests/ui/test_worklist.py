"""The work list as a clerk sees it: live updates keep the cursor on its row and the scroll where
it was, only what shows is drawn, Chinese lines up, keys move and choose."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from api_client.models import Event, ServiceItem
from screens.main import MainScreen
from screens.widgets.work_list import WorkListTable
from tests.conftest import Backend
from tests.ui.test_clerk_flow import SIZE, log_in, make_app, settle
from tests.ui.test_snapshots import ITEM
from workbench import i18n
from workbench.services import DeskService
from workbench.settings import WorkbenchSettings
from workbench.worklist import WorkList, WorkRow

NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)


def ticket_row(n: int, status: str = "waiting") -> WorkRow:
    return WorkRow(
        key=f"t:{n}",
        kind="ticket",
        id=n,
        number=f"GB{n:04d}",
        status=status,
        channel="hall",
        service_item="GA-002",
        priority=None,
        priority_weight=0,
        since=NOW - timedelta(minutes=n),
        clock=None,
        window=None,
        target_window=None,
        assignee=None,
        version=1,
    )


class ListApp(App[None]):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.service = DeskService(WorkbenchSettings(idle_lock_minutes=0))
        self.service.clock = lambda: NOW
        self.service.service_items = {"GA-002": ServiceItem.model_validate(ITEM)}
        self.worklist = WorkList(window="W01", service_items=["GA-002"])
        self.worklist.rows = {row.key: row for row in map(ticket_row, range(1, rows + 1))}
        self.chosen: list[WorkRow] = []

    def compose(self) -> ComposeResult:
        yield WorkListTable(self.service)

    def on_mount(self) -> None:
        table = self.query_one(WorkListTable)
        table.focus()
        table.sync(self.worklist.ordered())

    def on_work_list_table_chosen(self, message: WorkListTable.Chosen) -> None:
        self.chosen.append(message.row)

    def update(self, n: int, status: str) -> None:
        row = self.worklist.rows[f"t:{n}"]
        self.worklist.rows[row.key] = replace(row, status=status, version=row.version + 1)
        self.query_one(WorkListTable).sync(self.worklist.ordered())


def screen_line(table: WorkListTable, y: int) -> str:
    return table.render_line(y).text


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


async def test_updates_keep_the_cursor_on_its_row_and_the_scroll_where_it_was() -> None:
    app = ListApp(2000)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(WorkListTable)
        await pilot.press("pagedown", "pagedown", "down")
        await pilot.pause()
        watched = table.selected
        assert watched is not None and table.cursor_row > 30
        scroll = table.scroll_y
        assert scroll > 0

        oldest_first = table.order[:]
        app.update(1990, "called")  # an old ticket jumps to the top, above the cursor
        await pilot.pause()
        assert table.order[0] == "t:1990" and table.order != oldest_first
        assert table.selected is not None and table.selected.key == watched.key
        assert table.scroll_y == scroll
        assert "called" in screen_line(table, 1 + table.order.index("t:1990") - int(scroll))

        app.worklist.rows.pop(watched.key)  # the row under the cursor goes (served elsewhere)
        table.sync(app.worklist.ordered())
        await pilot.pause()
        assert table.selected is not None and table.selected.key != watched.key
        assert abs(table.cursor_row - oldest_first.index(watched.key)) <= 1


async def test_only_rows_in_view_are_drawn_and_a_change_redraws_its_row() -> None:
    app = ListApp(2000)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(WorkListTable)
        await pilot.pause()
        drawn = set(table._lines)
        assert 0 < len(drawn) < 40  # a screenful, not 2,000

        bottom = table.order[-1]
        moved = table.order[5]
        app.update(int(moved[2:]), "parked")  # parked tickets sort before waiting ones
        await pilot.pause()
        assert bottom not in table._lines  # out of view: still not formatted
        assert table.order[0] == moved
        top = screen_line(table, 1)
        assert f"GB{int(moved[2:]):04d}" in top and "parked" in top


async def test_keys_move_and_enter_chooses() -> None:
    app = ListApp(50)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(WorkListTable)
        await pilot.press("end")
        assert table.cursor_row == 49
        await pilot.press("home", "down", "down", "enter")
        await pilot.pause()
        assert [row.key for row in app.chosen] == [table.order[2]]
        await pilot.press("up")
        assert table.selected is not None and table.selected.key == table.order[1]


async def test_an_empty_list_says_so() -> None:
    app = ListApp(0)
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(WorkListTable)
        assert table.selected is None
        assert "No one is waiting" in screen_line(table, 1)


def from_cell(line: str, offset: int) -> str:
    """What `line` shows from screen cell `offset` on (wide characters take two cells)."""
    cells = 0
    for index, char in enumerate(line):
        if cells >= offset:
            return line[index:]
        cells += cell_len(char)
    return ""


async def test_chinese_columns_line_up() -> None:
    i18n.set_language("zh")
    app = ListApp(3)
    async with app.run_test(size=(140, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(WorkListTable)
        header, *rows = (screen_line(table, y) for y in range(4))
        assert "户口迁移" in rows[0]
        assert len({cell_len(line) for line in (header, *rows)}) == 1
        offset = cell_len(header[: header.index(i18n.t("list.status"))])
        waiting = i18n.t("status.ticket.waiting")
        for line in rows:
            assert from_cell(line, offset).startswith(waiting)


def _event(seq: int, type_: str, payload: dict[str, object]) -> Event:
    return Event(
        seq=seq,
        type=type_,
        subject_type="case",
        subject_id="7",
        actor="clerk01",
        at=NOW,
        payload=payload,
        hash="0" * 64,
    )


def test_a_checked_material_does_not_take_its_case_off_the_list() -> None:
    worklist = WorkList(window="W01", service_items=["GA-002"])
    worklist.username = "clerk01"
    claimed = {"number": "DL-ZS-1", "status": "under_review", "channel": "online"}
    assert worklist.apply_event(
        _event(1, "case.claimed", {**claimed, "assignee": "clerk01", "version": 2})
    )
    material = {"number": "DL-ZS-1", "material": "id_card", "status": "provided", "version": 3}
    worklist.apply_event(_event(2, "case.material_verified", material))
    row = worklist.get("c:7")
    assert row is not None and row.status == "under_review" and row.version == 3
    accepted = {"number": "DL-ZS-1", "status": "accepted", "version": 4, "deadline": "2026-03-03"}
    worklist.apply_event(_event(3, "case.accepted", accepted), today=NOW.date())
    row = worklist.get("c:7")
    assert row is not None and row.status == "accepted" and row.clock == "due_soon"


def test_only_online_cases_this_window_could_claim_are_listed() -> None:
    worklist = WorkList(window="W01", service_items=["GA-002"])
    worklist.username = "clerk01"
    submitted = {"status": "submitted", "channel": "online", "assignee": None, "version": 1}
    ours = {**submitted, "number": "DL-ZS-1", "service_item": "GA-002"}
    theirs = {**submitted, "number": "DL-ZS-2", "service_item": "SW-009"}
    assert worklist.apply_event(_event(1, "case.submitted", ours))
    other = _event(2, "case.submitted", theirs).model_copy(update={"subject_id": "8"})
    assert not worklist.apply_event(other)
    assert [row.number for row in worklist.ordered()] == ["DL-ZS-1"]


async def test_the_work_list_shows_it_is_loading_until_the_list_arrives(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert not screen.table.loading
        screen.table.sync([])  # an empty list: nothing to keep on screen meanwhile
        fresh_backend.server.stop()
        screen.load_work_list()
        await pilot.pause()
        assert screen.table.loading  # covered by a LoadingIndicator
        await settle(app, pilot)  # the load gives up: the spinner goes
        assert not screen.table.loading
