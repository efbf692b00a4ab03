"""The main screen, driven by keys against the real backend: opening the visitor's case (n),
revealing and hiding the ID number (v), confirming a no-show (x), and the visitor panel after
leaving a case."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.widgets import DataTable, Static
from textual.worker import Worker

from screens.app import WorkbenchApp
from screens.case import CaseScreen
from screens.dialogs import PromptDialog
from screens.help import HelpScreen
from screens.main import MainScreen
from screens.widgets.deliberate_confirm import DeliberateConfirmDialog
from screens.widgets.visitor_panel import VisitorPanel
from tests.api.cases_support import new_person
from tests.conftest import Backend
from tests.ui.test_clerk_flow import SIZE, current, issue, log_in, make_app, settle

ITEM = "GA-001"  # served at W01


class Shown:
    """The notifications the app showed, and the names of the workers it started."""

    def __init__(self) -> None:
        self.items: list[Notification] = []
        self.workers: list[str] = []

    def hook(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.items.append(message.notification)
        elif isinstance(message, Worker.StateChanged):
            self.workers.append(message.worker.name)

    def texts(self) -> list[str]:
        return [n.message for n in self.items]

    def any(self, part: str) -> bool:
        return any(part in text for text in self.texts())


def panel_text(app: WorkbenchApp) -> str:
    return str(app.screen.query_one(VisitorPanel).render())


def reveal_label(app: WorkbenchApp) -> str | None:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen.binding_label(screen.active_bindings["v"].binding)


async def test_n_opens_the_case_of_the_visitor_being_served(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    person = new_person()
    ticket = await issue(terminal, ITEM, applicant_id_number=person, applicant_name="王小明")
    app = make_app(fresh_backend, tmp_path)
    shown = Shown()
    async with app.run_test(size=SIZE, notifications=True, message_hook=shown.hook) as pilot:
        await log_in(app, pilot, "clerk01")
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("n")  # nobody called yet: says so
        await settle(app, pilot)
        assert shown.any("No visitor is called or being served")
        assert isinstance(app.screen, MainScreen)

        await pilot.press("f5", "s")
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.id == ticket["id"]
        await pilot.press("n")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case is not None
        case = screen.case
        assert case.ticket_id == ticket["id"] and case.channel == "hall"
        expected = [m.code for m in app.service.service_items[ITEM].materials]
        assert [row.material for row in case.checklist or []] == expected
        assert shown.any(f"Case {case.number} opened for {ticket['number']}")

        await pilot.press("escape")  # back: the visitor and their case, nothing else
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        text = panel_text(app)
        assert ticket["number"] in text and f"Case {case.number}" in text
        assert "No visitor" not in text

        await pilot.press("n")  # again: the same case, not a second one
        await settle(app, pilot)
        again = app.screen
        assert isinstance(again, CaseScreen) and again.case_id == case.id
        assert shown.any("already has a case")
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("f", "2")  # finish, outcome "case opened"
        await settle(app, pilot)
        assert current(app) is None
        text = panel_text(app)
        assert "No visitor" in text and case.number not in text


async def test_n_asks_a_walk_in_for_the_id_number_and_name(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    person = new_person()
    app = make_app(fresh_backend, tmp_path)
    shown = Shown()
    async with app.run_test(size=SIZE, notifications=True, message_hook=shown.hook) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("w", "1")
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.status == "serving"
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptDialog)
        await pilot.press(*"210202199001011234", "enter")  # wrong check character
        await settle(app, pilot)
        assert shown.any("not a valid resident ID number")
        prompt = app.screen
        assert isinstance(prompt, PromptDialog)
        assert prompt.value == "210202199001011234"  # typed again from what was there
        await pilot.press(*["backspace"] * 18, *person, "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptDialog)
        await pilot.press(*"Li Hua", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case is not None
        assert screen.case.ticket_id == visitor.id and screen.case.applicant.name == "Li Hua"
        assert screen.case.checklist

        await pilot.press("escape")  # back: the visitor is known by the case's name now
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        visitor_lines = panel_text(app).split("Case ")[0]
        assert "Li Hua" in visitor_lines and "(not known)" not in visitor_lines


async def test_v_says_plainly_when_no_id_is_known_and_toggles(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await issue(terminal, ITEM)  # no ID card swiped
    person = new_person()
    await issue(terminal, ITEM, applicant_id_number=person, applicant_name="王小明")
    app = make_app(fresh_backend, tmp_path)
    shown = Shown()
    async with app.run_test(size=SIZE, notifications=True, message_hook=shown.hook) as pilot:
        await log_in(app, pilot, "clerk01")
        panel = app.screen.query_one(VisitorPanel)
        await pilot.press("f5")
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.applicant is None
        await pilot.press("v")
        await settle(app, pilot)
        assert "reveal" not in shown.workers  # nothing to ask the server
        assert shown.any("this visitor gave no ID number")
        assert not any("There is no ticket" in text for text in shown.texts())
        assert all(str(visitor.id) not in text.split() for text in shown.texts())
        assert panel.revealed is None

        await pilot.press("x", "y")  # no-show, confirmed
        await settle(app, pilot)
        await pilot.press("f5")
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.applicant is not None
        await pilot.press("v")
        await settle(app, pilot)
        assert panel.revealed is not None and panel.revealed.id_number == person
        assert person in panel_text(app)
        assert "reveal" in shown.workers and reveal_label(app) == "Hide ID"
        await pilot.press("v")  # again: masked
        await settle(app, pilot)
        assert panel.revealed is None and person not in panel_text(app)
        assert reveal_label(app) is None
        assert shown.any("hidden again")


async def test_x_asks_before_marking_a_no_show(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await issue(terminal, ITEM)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("f5")
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.status == "called"

        await pilot.press("x")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, DeliberateConfirmDialog)
        assert "recall countdown is still running" in dialog.message
        await pilot.press("enter")  # Enter by accident: nothing happens
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert (visitor := current(app)) is not None and visitor.status == "called"

        await pilot.press("x", "escape")
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.status == "called"

        await pilot.press("x", "y")
        await settle(app, pilot)
        assert current(app) is None


def row_text(screen: MainScreen, key: str) -> str:
    index = screen.table.get_row_index(key)
    return str(screen.table.render_line(1 + index - int(screen.table.scroll_y)).text)


async def test_waiting_tickets_show_in_arrival_order_not_priority_first(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    """F5 calls a priority ticket only after the window's share of normal ones (the hall's
    interleave, 3 in the demo hall): the list must not show priority tickets as next."""
    first = await issue(terminal, ITEM, priority_class="pregnant")
    normals = [await issue(terminal, ITEM) for _ in range(3)]
    later = await issue(terminal, ITEM, priority_class="pregnant")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("f5")  # the window's first call: the priority ticket
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.id == first["id"]
        await pilot.press("x", "y")
        await settle(app, pilot)
        waiting = [k for k in screen.table.order if screen.table.shown[k].status == "waiting"]
        assert waiting == [f"t:{t['id']}" for t in (*normals, later)]
        assert "pregnant" in row_text(screen, f"t:{later['id']}")
        for expected in (*normals, later):  # the top waiting row is the one F5 calls
            top = next(k for k in screen.table.order if screen.table.shown[k].status == "waiting")
            assert top == f"t:{expected['id']}"
            await pilot.press("f5")
            await settle(app, pilot)
            assert (visitor := current(app)) is not None and visitor.id == expected["id"]
            await pilot.press("x", "y")
            await settle(app, pilot)


async def test_the_service_item_takes_the_width_the_other_columns_leave(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    ticket = await issue(terminal, "WJ-001")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        table = screen.table
        header = str(table.render_line(0).text)
        assert header.rstrip().endswith("Time limit")
        assert len(header) == table.scrollable_content_region.width
        name = app.service.service_items["WJ-001"].name_en
        shown = row_text(screen, f"t:{ticket['id']}")
        assert len(name) >= 40 and name in shown, (name, shown)  # whole, not cut
        assert shown.split()[0] == ticket["number"]  # the number column fits its numbers
        assert shown.startswith(f" {ticket['number']}  "), shown
        assert table.virtual_size.width <= table.scrollable_content_region.width


async def test_c_calls_resumes_or_says_what_to_press(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    first = await issue(terminal, ITEM, applicant_id_number=new_person(), applicant_name="王小明")
    second = await issue(terminal, ITEM)
    app = make_app(fresh_backend, tmp_path)
    shown = Shown()
    async with app.run_test(size=SIZE, notifications=True, message_hook=shown.hook) as pilot:
        await log_in(app, pilot, "clerk01")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        table = screen.table
        await pilot.press("f5", "s", "p")  # serve the first visitor, then park them
        await settle(app, pilot)
        parked = f"t:{first['id']}"
        assert current(app) is None and table.shown[parked].status == "parked"

        table.move_cursor(row=table.get_row_index(parked))
        await pilot.press("c")  # a parked ticket: taken back, as Enter does
        await settle(app, pilot)
        assert (visitor := current(app)) is not None and visitor.id == first["id"]
        assert shown.any(f"{first['number']} resumed")

        table.move_cursor(row=table.get_row_index(parked))
        await pilot.press("c")  # already called: says so, calls nothing
        await settle(app, pilot)
        assert shown.any(f"{first['number']} is already")
        visitor = current(app)
        assert visitor is not None and visitor.id == first["id"]

        if visitor.status == "called":
            await pilot.press("s")
            await settle(app, pilot)
        await pilot.press("n", "escape")  # open the visitor's case: it joins the list
        await settle(app, pilot)
        case = app.service.session.store.snapshot.current_case if app.service.session else None
        assert case is not None
        key = f"c:{case.id}"
        shown_number = row_text(screen, key).split()[0]
        assert shown_number == "…" + case.number.rpartition("-")[2]
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("c")  # a case: says to press Enter
        await settle(app, pilot)
        assert shown.any("is a case, not a ticket: press Enter to open it")
        assert isinstance(app.screen, MainScreen)

        await pilot.press("f", "2")  # finish ("case opened")
        await settle(app, pilot)
        waiting = f"t:{second['id']}"
        table.move_cursor(row=table.get_row_index(waiting))
        await pilot.press("c")  # a waiting ticket: called out of turn
        await settle(app, pilot)
        called = current(app)
        assert called is not None and called.id == second["id"]
        assert shown.any(f"Called {second['number']}")


def help_rows(app: WorkbenchApp) -> list[list[str]]:
    table = app.screen.query_one("#help-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.mark.parametrize("size", [(160, 48), (100, 40)])
async def test_help_in_chinese_has_no_english_rows_and_wraps(
    fresh_backend: Backend, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(fresh_backend, tmp_path, language="zh")
    async with app.run_test(size=size) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("f1")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        title = str(app.screen.query_one(".dialog-title", Static).render())
        assert "主界面" in title and "Main" not in title
        rows = help_rows(app)
        actions = {row[1] for row in rows}
        assert {"上移", "下一项", "复制", "退出", "命令面板"} <= actions, actions
        for _key, action, explain in rows:  # F9 is named by the language it switches to
            text = (action + explain).replace("English", "")
            assert not re.search(r"[A-Za-z]{3,}", text), (action, explain)
        table = app.screen.query_one("#help-table", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width


async def test_help_in_english_wraps_every_description_at_100_columns(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("f1")
        await settle(app, pilot)
        table = app.screen.query_one("#help-table", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        rows = help_rows(app)
        labels = {row[1]: row[2] for row in rows}
        assert labels["Focus next" if "Focus next" in labels else "Next field"]
        assert "Scroll left" in labels and "Page up" in labels and "Quit" in labels
        assert "Command palette" in labels and "palette" not in labels
        call_next = next(
            row for row in table.ordered_rows if "Call next" in str(table.get_row(row.key)[1])
        )
        assert call_next.height >= 2  # "... asks first while someone is being served" wraps
