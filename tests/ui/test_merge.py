"""Merging driven the way a clerk and a supervisor drive it, against the real backend: a hall
visitor whose online application is already filed shows the quiet marker; the clerk compares the
two cases side by side, resolves what differs, picks materials and merges; the work list and the
case screen show the result; a supervisor undoes the merge and the online application returns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList

from screens.app import WorkbenchApp
from screens.board import BoardScreen
from screens.case import CaseScreen
from screens.dialogs import ConfirmDialog, PromptDialog
from screens.main import MainScreen
from screens.merge import MergeScreen, ask_merge_history
from screens.merge_dialogs import MergeCandidatesDialog, MergeHistoryDialog
from screens.widgets.visitor_panel import VisitorPanel
from tests.api.cases_support import current, intake, new_person
from tests.api.merge_support import SUBSISTENCE, uploads
from tests.conftest import Backend, key
from tests.ui.test_clerk_flow import SIZE, issue, log_in, make_app, settle
from workbench.last_login import LAST_LOGIN_FILE
from workbench.locations import data_dir


async def until(app: WorkbenchApp, pilot: Pilot[None], ready: Callable[[], bool]) -> None:
    """Let the workers and the 4 Hz repaint run until `ready()` (bounded, no timing asserted)."""
    for _ in range(200):
        if ready():
            return
        await settle(app, pilot)
        await pilot.pause(0.05)
    assert ready()


def text_of(widget: Any) -> str:
    return str(widget.render())


def option_text(dialog: Any, index: int) -> str:
    return str(dialog.query_one(OptionList).get_option_at_index(index).prompt)


def row_text(table: DataTable[Any], key: str) -> str:
    return " | ".join(str(cell) for cell in table.get_row(key))


async def test_a_clerk_merges_a_visitor_with_their_online_application_and_a_supervisor_undoes_it(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    person = new_person()
    portal = await fresh_backend.login("portal01")
    terminal = await fresh_backend.login("terminal01")
    online = await intake(
        portal,
        id_number=person,
        name="李晓梅",
        phone="13900001111",
        uploads=uploads("application", "id_card", "household_register"),
    )
    ticket = await issue(terminal, SUBSISTENCE, applicant_id_number=person, applicant_name="李晓梅")
    await portal.aclose()
    await terminal.aclose()

    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk05")  # W05 serves MZ-002
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("f5")
        await settle(app, pilot)
        assert (visitor := app.service.current_ticket) is not None
        assert visitor.id == ticket["id"]
        panel = main.query_one(VisitorPanel)
        await until(app, pilot, lambda: "possible match(es)" in text_of(panel))
        assert "m to compare" in text_of(panel)
        await pilot.press("s")  # start serving
        await settle(app, pilot)

        # m: the candidates, each with why it matched
        await pilot.press("m")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, MergeCandidatesDialog)
        listed = option_text(dialog, 0)
        assert online["number"] in listed and "exact match" in listed
        assert "same ID number" in listed and "score 100" in listed
        assert "opens a hall case" in text_of(dialog.query_one("#merge-hint"))

        # choosing it opens a hall case for the visitor and the side-by-side screen
        await pilot.press("1")
        await settle(app, pilot)
        merge = app.screen
        assert isinstance(merge, MergeScreen) and merge.preview is not None
        hall_id = merge.preview.survivor.id
        assert merge.preview.survivor.channel == "hall"
        assert merge.preview.absorbed.id == online["id"]
        await pilot.press("escape")  # first the paper the visitor brought
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        await until(app, pilot, lambda: f"c:{hall_id}" in main.table.shown)
        main.table.move_cursor(row=main.table.get_row_index(f"c:{hall_id}"))
        await pilot.press("enter")
        await settle(app, pilot)
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen) and case_screen.case is not None
        assert case_screen.case.id == hall_id
        sighted = (case_screen.case.checklist or [])[0].material
        await pilot.press("1")  # the first material: original sighted at the window
        await app.service.ws.outbox.wait_idle()
        await settle(app, pilot)

        # M on the case screen: the same candidate, now compared with the paper in hand
        await pilot.press("M")
        await settle(app, pilot)
        assert isinstance(app.screen, MergeCandidatesDialog)
        await pilot.press("1")
        await settle(app, pilot)
        merge = app.screen
        assert isinstance(merge, MergeScreen) and merge.preview is not None
        table = merge.query_one(DataTable)
        assert "same" in row_text(table, "a:name")  # one person: nothing to resolve
        paper_row = row_text(table, f"m:{sighted}")
        assert paper_row.startswith("≠")  # the two sides differ: highlighted
        assert "original sighted ✔" in paper_row and "online upload" in paper_row
        assert "keep left" in paper_row  # the verified side by default
        assert "only right" in row_text(table, "m:household_register")
        table.move_cursor(row=table.get_row_index("m:household_register"))
        await pilot.press("1")  # only the online case has it: nothing to choose
        assert "Only one case has this material" in text_of(merge.query_one("#merge-error"))
        table.move_cursor(row=table.get_row_index(f"m:{sighted}"))
        await pilot.press("2")  # and keep the online upload rather than the paper
        assert "keep right" in row_text(table, f"m:{sighted}")
        await pilot.press("M")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(app, pilot)

        # the case screen shows the survivor, with every item and where it came from
        await until(app, pilot, lambda: isinstance(app.screen, CaseScreen))
        survivor_screen = app.screen
        assert isinstance(survivor_screen, CaseScreen)
        await until(app, pilot, lambda: survivor_screen.case is not None)
        assert survivor_screen.case is not None and survivor_screen.case.id == hall_id
        hall_number = survivor_screen.case.number
        detail = text_of(survivor_screen.query_one("#decisions"))
        assert f"Merged from {online['number']}" in detail
        assert f"online upload (from {online['number']})" in detail
        items = {(m.material, m.origin) for m in survivor_screen.case.materials}
        assert (sighted, "online_upload") in items and (
            "household_register",
            "online_upload",
        ) in items
        assert (sighted, "hall_paper") not in items

        # a clerk sees the history but cannot undo it
        await pilot.press("h")
        await settle(app, pilot)
        history = app.screen
        assert isinstance(history, MergeHistoryDialog)
        assert online["number"] in option_text(history, 0)
        await pilot.press("enter")
        await settle(app, pilot)
        assert "Only a supervisor" in text_of(history.query_one("#dialog-error"))
        await pilot.press("escape", "escape")
        await settle(app, pilot)

        # the work list: the online application is gone, the visitor's case stays
        assert isinstance(app.screen, MainScreen)
        await until(app, pilot, lambda: f"c:{online['id']}" not in main.table.shown)
        assert f"c:{hall_id}" in main.table.shown
        await until(app, pilot, lambda: "possible match" not in text_of(panel))

    merged = await fresh_backend.login("super01")
    assert (await current(merged, online["id"]))["status"] == "merged"
    await merged.aclose()

    # a supervisor undoes it: the board's entry point asks for the case, then shows its merges
    (data_dir() / LAST_LOGIN_FILE).unlink(missing_ok=True)
    boss = make_app(fresh_backend, tmp_path / "supervisor")
    async with boss.run_test(size=SIZE) as pilot:
        await settle(boss, pilot)
        await pilot.press(*"super01", "enter", *"demo1234", "enter")
        await until(boss, pilot, lambda: isinstance(boss.screen, BoardScreen))
        board = boss.screen
        assert isinstance(board, BoardScreen)
        ask_merge_history(board)
        await settle(boss, pilot)
        assert isinstance(boss.screen, PromptDialog)
        await pilot.press(*hall_number, "enter")
        await settle(boss, pilot)
        history = boss.screen
        assert isinstance(history, MergeHistoryDialog)
        await until(boss, pilot, lambda: bool(history.records))
        assert "can be undone until" in option_text(history, 0)
        await pilot.press("enter")
        await settle(boss, pilot)
        assert isinstance(boss.screen, ConfirmDialog)
        await pilot.press("enter")
        await until(boss, pilot, lambda: history.undone)
        assert "Merge undone" in text_of(history.query_one("#merge-done"))
        await until(boss, pilot, lambda: "undone" in option_text(history, 0))
        await pilot.press("enter")  # once more: refused, and said so
        await settle(boss, pilot)
        assert "already undone" in text_of(history.query_one("#dialog-error"))
        await pilot.press("escape")
        await settle(boss, pilot)
        assert boss.screen is board

    check = await fresh_backend.login("super01")
    back = await current(check, online["id"])
    assert back["status"] == "submitted" and back["merged_into"] is None
    hall = await current(check, hall_id)
    assert hall["merged_from"] == [] and hall["materials"] == []
    await check.aclose()


LIU = "210202198809150425"  # 刘丽娟 at the window
LIU_SWAPPED = "210204198809150225"  # her online application, two digits of the ID swapped


async def test_different_id_numbers_must_be_resolved_and_confirmed(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    portal = await fresh_backend.login("portal01")
    terminal = await fresh_backend.login("terminal01")
    online = await intake(portal, id_number=LIU_SWAPPED, name="刘丽娟")
    await issue(terminal, SUBSISTENCE, applicant_id_number=LIU, applicant_name="刘丽娟")
    await portal.aclose()
    await terminal.aclose()

    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk05")
        await pilot.press("f5", "s")
        await settle(app, pilot)
        panel = app.screen.query_one(VisitorPanel)
        await until(app, pilot, lambda: "possible match(es)" in text_of(panel))
        await pilot.press("m")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, MergeCandidatesDialog)
        assert "near match" in option_text(dialog, 0)
        assert "ID number with two digits swapped" in option_text(dialog, 0)
        await pilot.press("enter")
        await settle(app, pilot)
        merge = app.screen
        assert isinstance(merge, MergeScreen)
        await until(app, pilot, lambda: merge.preview is not None)
        assert "Different ID numbers" in text_of(merge.query_one("#merge-summary"))
        table = merge.query_one(DataTable)
        assert "choose 1 or 2" in row_text(table, "a:id_number")

        await pilot.press("M")  # refused on the screen until the ID number is resolved
        await settle(app, pilot)
        assert isinstance(app.screen, MergeScreen)
        error = text_of(merge.query_one("#merge-error"))
        assert "Choose whose value is right first" in error and "ID number" in error
        assert merge.rows[table.cursor_row].key == "a:id_number"
        await pilot.press("1")  # the card at the window is right
        assert "keep left" in row_text(table, "a:id_number")
        await pilot.press("M")
        await settle(app, pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog) and confirm.danger
        assert "different ID numbers" in confirm.message
        await pilot.press("escape")  # not sure after all: nothing happens
        await settle(app, pilot)
        assert isinstance(app.screen, MergeScreen)
        await pilot.press("M")
        await settle(app, pilot)
        await pilot.press("enter")
        await until(app, pilot, lambda: isinstance(app.screen, CaseScreen))

    supervisor = await fresh_backend.login("super01")
    merged = await current(supervisor, online["id"])
    assert merged["status"] == "merged"
    history = (await supervisor.get(f"/api/v1/cases/{online['id']}/merges")).json()["items"]
    assert history[0]["applicant_mismatch_confirmed"] is True
    assert history[0]["applicant"] == {"id_number": "survivor"}
    await supervisor.aclose()


async def test_a_merge_made_meanwhile_by_someone_else_is_refused_clearly(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    person = new_person()
    portal = await fresh_backend.login("portal01")
    first = await intake(portal, id_number=person, name="赵敏")
    second = await intake(portal, id_number=person, name="赵敏")
    await portal.aclose()

    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk05")
        main = app.screen
        assert isinstance(main, MainScreen)
        await until(app, pilot, lambda: f"c:{first['id']}" in main.table.shown)
        main.table.move_cursor(row=main.table.get_row_index(f"c:{first['id']}"))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("M")
        await settle(app, pilot)
        assert second["number"] in option_text(app.screen, 0)
        await pilot.press("1")
        await settle(app, pilot)
        merge = app.screen
        assert isinstance(merge, MergeScreen)
        await until(app, pilot, lambda: merge.preview is not None)

        # another clerk merges the same pair first
        other = await fresh_backend.login("clerk03", "W03")
        fresh = await current(other, second)
        response = await other.post(
            f"/api/v1/cases/{second['id']}/merge",
            json={"other_case": first["id"]},
            headers={**key(), "If-Match": f'"{fresh["version"]}"'},
        )
        assert response.status_code == 201, response.text
        await other.aclose()

        await pilot.press("M")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MergeScreen)  # still comparing, told why
        error = text_of(merge.query_one("#merge-error"))
        assert "merged meanwhile" in error and second["number"] in error
