"""The case screen's document facts and "supplement received", driven by keys against the real
backend: the clerk types what a paper says and sees the automatic checks' verdict; a case waiting
for supplements goes back to review when the clerk records that they arrived."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.widgets import DataTable, Input

from screens.app import WorkbenchApp
from screens.case import CaseScreen
from screens.facts_dialog import FactsDialog, parse_date, parse_sex
from tests.api.cases_support import MIGRATION, intake
from tests.conftest import Backend
from tests.ui.test_clerk_flow import SIZE, log_in, make_app, settle


@pytest.fixture
async def portal(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("portal01")
    yield client
    await client.aclose()


async def open_claimed_case(app: WorkbenchApp, pilot: object) -> CaseScreen:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await log_in(app, pilot, "clerk01")
    await pilot.press("o")  # claim the next online case: the case screen opens
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, CaseScreen) and screen.case is not None
    return screen


def test_dates_and_sexes_are_read_the_ways_clerks_type_them() -> None:
    assert parse_date("2031-05-01") == parse_date("20310501") == parse_date("2031/5/1")
    assert parse_date("2031年5月1日").isoformat() == "2031-05-01"
    assert parse_sex("男") == parse_sex("m") == "male"
    with pytest.raises(ValueError):
        parse_date("next year")
    with pytest.raises(ValueError):
        parse_date("2031-02-30")
    with pytest.raises(ValueError):
        parse_sex("x")


async def test_typed_document_facts_run_the_automatic_checks(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    filed = await intake(portal, item=MIGRATION, name="王小明")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        assert screen.case is not None and screen.case.id == filed["id"]
        table = screen.query_one("#checklist", DataTable)
        assert table.cursor_row == 0  # the ID card

        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, FactsDialog)
        await pilot.press(*"Wang Xiaoming", "tab", "tab", "tab", "tab", *"2020-13-01", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FactsDialog)  # a bad date is named, nothing is sent
        assert "2020-13-01" in str(dialog.query_one("#dialog-error").render())
        assert dialog.focused is dialog.query_one("#facts-valid-until", Input)
        await pilot.press(*["backspace"] * 10, *"2020-01-31", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)

        await app.service.ws.outbox.wait_idle()
        await settle(app, pilot)
        case = screen.case
        assert case is not None
        row = next(r for r in case.checklist or [] if r.material == "id_card")
        assert row.status == "provided" and row.provided_as == "original"
        assert row.document is not None and row.document.holder_name == "Wang Xiaoming"
        codes = {f.code for f in case.findings or [] if f.material == "id_card"}
        assert {"document_expired", "name_mismatch"} <= codes
        findings_cell = str(table.get_cell("id_card", "findings"))
        assert "expired" in findings_cell.lower()
        assert table.cursor_row == 0  # the clerk stays on the row they typed facts for

        await pilot.press("i", "escape")  # changing one's mind sends nothing
        await settle(app, pilot)
        assert app.service.outbox_status.pending == 0


async def test_facts_survive_a_decision_chosen_by_its_digit(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION, name="王小明")
    # held long enough to be seen in the outbox however busy the machine (0.3 s was not)
    app = make_app(fresh_backend, tmp_path, undo_seconds=3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        await pilot.press("i", "tab", "tab", "tab", "tab", *"long-term", "enter")  # 长期
        await settle(app, pilot)
        await pilot.press("down", "1", "1", "0", "0")  # the rest: sighted, sighted, n/a, n/a
        await settle(app, pilot)
        await app.service.ws.outbox.wait_idle()
        await pilot.press("up", "up", "up", "up")  # back on the ID card
        # "1" picks Accept in the dialog; on the case screen "1" also means "original sighted",
        # which must not be applied to the ID card too (it would wipe the typed facts)
        await pilot.press("d", "1")
        labels: list[str] = []
        for _ in range(50):  # the decision reaches the outbox once the dialog has closed
            await settle(app, pilot)
            labels = [entry.label for entry in await app.service.outbox_entries()]
            if labels:
                break
        assert len(labels) == 1 and labels[0].startswith("Accept"), labels
        await app.service.ws.outbox.wait_idle()
        await settle(app, pilot)
        case = await app.service.open_case(screen.case_id)
        assert case.status == "accepted"
        row = next(r for r in case.checklist or [] if r.material == "id_card")
        assert row.document is not None and str(row.document.valid_until) == "9999-12-31"
        assert not [f for f in case.findings or [] if f.material == "id_card"]


async def test_supplement_received_returns_the_case_to_review(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        assert screen.check_action("supplement_received", ()) is None  # shown, disabled

        await pilot.press("1", "m")  # ID card sighted; household register missing
        await settle(app, pilot)
        await app.service.ws.outbox.wait_idle()
        await pilot.press("d", "2")  # request supplements: the notice first
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        await app.service.ws.outbox.wait_idle()
        await settle(app, pilot)
        assert screen.case is not None and screen.case.status == "supplement_requested"
        assert screen.check_action("supplement_received", ()) is True

        await pilot.press("r")  # the applicant came back with the household register
        await settle(app, pilot)
        assert "sending in" in str(screen.query_one("#undo-bar").render())
        await app.service.ws.outbox.wait_idle()
        await settle(app, pilot)
        case = screen.case
        assert case is not None and case.status == "under_review"
        decisions = [d.decision for d in case.decisions or []]
        assert decisions[-1] == "supplement_received"
        assert screen.check_action("supplement_received", ()) is None

        await pilot.press("r")  # not waiting any more: nothing is queued
        await settle(app, pilot)
        assert app.service.outbox_status.pending == 0


async def test_case_screen_shows_it_is_loading_until_the_case_arrives(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    filed = await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    shown: list[Notification] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification)

    async with app.run_test(size=SIZE, notifications=True, message_hook=hook) as pilot:
        await log_in(app, pilot, "clerk01")
        fresh_backend.server.stop()  # the case cannot arrive
        app.push_screen(CaseScreen(filed["id"]))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        assert screen.query_one("#case-body").loading  # covered by a LoadingIndicator
        await settle(app, pilot)  # the load gives up: a notification, the spinner goes
        assert not screen.query_one("#case-body").loading
        assert any(n.severity == "error" and "Loading the case" in n.title for n in shown)
