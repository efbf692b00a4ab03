"""The case screen's guards, driven by keys against the real backend: the applicant's ID number
stays masked unless the clerk reveals it, decisions the server would refuse are not offered, and
messages name cases and materials as the clerk knows them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Checkbox, DataTable, Label, OptionList, Static
from textual.widgets.option_list import Option

from api_client.models import MaterialVerification
from screens.app import WorkbenchApp
from screens.case import CaseScreen
from screens.conflicts import ConflictDialog
from screens.dialogs import ChoiceDialog, NoticeDialog
from screens.widgets.key_bar import KeyBar
from tests.api.cases_support import MIGRATION, intake, upload
from tests.api.test_e_licences import ZHANG
from tests.conftest import Backend
from tests.ui.test_case_facts import open_claimed_case
from tests.ui.test_clerk_flow import SIZE, make_app, settle


@pytest.fixture
async def portal(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("portal01")
    yield client
    await client.aclose()


def header(screen: CaseScreen) -> str:
    return str(screen.query_one("#case-header", Static).render())


async def sent(app: WorkbenchApp, pilot: object) -> None:
    """Let the outbox send what was queued and the screen show the case the server answered."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await settle(app, pilot)
    await app.service.ws.outbox.wait_idle()
    await settle(app, pilot)
    screen = app.screen
    if isinstance(screen, CaseScreen):
        screen.load_case()
    await settle(app, pilot)


# -- the ID number stays masked --------------------------------------------------------------


async def test_an_e_licence_look_up_does_not_unmask_the_id_number(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION, id_number=ZHANG, name="张志强")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        masked = "210202********0318"
        assert masked in header(screen)

        await pilot.press("l")  # look up the ID card's e-licence
        await settle(app, pilot)
        await pilot.press("1")  # use the first one offered
        await sent(app, pilot)
        case = screen.case
        assert case is not None
        row = next(r for r in case.checklist or [] if r.material == "id_card")
        assert row.provided_as == "e_licence"
        assert masked in header(screen) and ZHANG not in header(screen)

        table = screen.query_one("#checklist", DataTable)
        provided = str(table.get_cell("id_card", "provided"))
        assert provided.startswith("e-licence · ") and "*" not in provided, provided
        assert "210202" not in provided and "0318" not in provided

        await pilot.press("v")  # only the reveal key unmasks it
        await settle(app, pilot)
        assert ZHANG in header(screen)


async def test_a_fruitless_look_up_then_facts_keep_the_id_number_masked(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    filed = await intake(portal, item=MIGRATION, name="王小明")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        masked = filed["applicant"]["id_number_masked"]
        assert masked in header(screen)

        await pilot.press("l")  # this applicant has no e-licence
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("1")
        await sent(app, pilot)
        await pilot.press("up", "i", *"Wang Xiaoming", "enter")  # document facts, saved
        await sent(app, pilot)
        assert masked in header(screen)
        assert "*" in header(screen) and screen.revealed is None


# -- decisions the server would refuse are not offered ---------------------------------------


def decision_dialog(app: WorkbenchApp) -> ChoiceDialog:
    dialog = app.screen
    assert isinstance(dialog, ChoiceDialog)
    return dialog


def option(dialog: ChoiceDialog, decision: str) -> Option:
    return dialog.query_one(OptionList).get_option(decision)


async def test_accept_is_not_offered_while_mandatory_materials_are_missing(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_claimed_case(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        dialog = decision_dialog(app)
        accept = option(dialog, "accept")
        assert accept.disabled
        assert "3 mandatory materials not provided" in str(accept.prompt)
        assert option(dialog, "approve").disabled  # not before acceptance
        assert not option(dialog, "supplement").disabled
        assert not option(dialog, "withdraw").disabled

        await pilot.press("1")  # Accept by its digit: only says why
        await settle(app, pilot)
        assert app.screen is dialog
        reason = str(dialog.query_one("#dialog-error", Label).render())
        assert "3 mandatory materials not provided" in reason
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.service.outbox_status.pending == 0


async def test_approve_is_not_offered_while_a_material_is_owed(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        assert screen.case is not None
        number = screen.case.number
        # the three mandatory materials sighted, the marriage certificate n/a, consent owed
        await pilot.press("1", "1", "1", "0", "o")
        await pilot.press("d")  # the marks are on their way: the dialog counts them already
        await pilot.pause()
        dialog = decision_dialog(app)
        assert "1 material is marked owed" in str(option(dialog, "accept").prompt)
        assert not option(dialog, "accept_with_owed").disabled
        await pilot.press("3")  # accept with owed: the pledge notice, as the server writes it
        await settle(app, pilot)
        notice = app.screen
        assert isinstance(notice, NoticeDialog)
        notice.query_one("#pledge", Checkbox).value = True
        await pilot.click("#confirm")
        labels: list[str] = []
        for _ in range(50):
            await settle(app, pilot)
            labels = [e.label for e in await app.service.outbox_entries()]
            if any("Accept with materials owed" in label for label in labels):
                break
        assert any(label == f"Accept with materials owed — case {number}" for label in labels)
        await sent(app, pilot)
        case = screen.case
        assert case is not None and case.status == "accepted" and case.owed == ["consent"]

        await pilot.press("d")
        await pilot.pause()
        dialog = decision_dialog(app)
        approve = option(dialog, "approve")
        assert approve.disabled and "1 material still owed" in str(approve.prompt)
        assert option(dialog, "accept").disabled and option(dialog, "supplement_received").disabled
        await pilot.press("5")  # Approve by its digit: nothing is queued
        await settle(app, pilot)
        assert app.screen is dialog
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.service.outbox_status.pending == 0

        # the owed material by its name, the notice by its kind's name
        consent = next(r for r in case.checklist or [] if r.material == "consent")
        findings = str(screen.query_one("#findings", Static).render())
        assert f"Owed (容缺): {consent.name_en}" in findings
        decisions = str(screen.query_one("#decisions", Static).render())
        assert "(owed materials)" in decisions and "(owed)" not in decisions


# -- what the checklist and the checks say ---------------------------------------------------


async def test_a_missing_upload_is_not_called_provided_and_nothing_checked_is_not_passed(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    uploads = [upload(m) for m in ("id_card", "household_register", "property_proof")]
    await intake(portal, item=MIGRATION, uploads=uploads)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        findings = str(screen.query_one("#findings", Static).render())
        assert "passed" not in findings and "5 materials still to check" in findings
        table = screen.query_one("#checklist", DataTable)
        assert str(table.get_cell("id_card", "provided")) == "uploaded (unchecked)"

        await pilot.press("m")  # the uploaded ID card is not acceptable: missing
        await sent(app, pilot)
        case = screen.case
        assert case is not None
        assert next(r for r in case.checklist or [] if r.material == "id_card").status == "missing"
        assert str(table.get_cell("id_card", "provided")) == ""
        assert "MISSING" in str(table.get_cell("id_card", "status"))


async def test_a_second_notice_for_the_same_unchanged_material_is_not_offered(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        await pilot.press("1", "m", "1")  # the household register is missing
        await sent(app, pilot)
        await pilot.press("d", "2")  # the one-time notice lists it
        await pilot.pause()
        await pilot.press("enter")
        await sent(app, pilot)
        case = screen.case
        assert case is not None and case.status == "supplement_requested"
        notice = (case.notices or [])[-1].number

        await pilot.press("d")  # nothing changed since: a second notice would be refused
        await pilot.pause()
        supplement = option(decision_dialog(app), "supplement")
        assert supplement.disabled and f"already requested in notice {notice}" in str(
            supplement.prompt
        )
        assert not option(decision_dialog(app), "supplement_received").disabled
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("up", "up", "1")  # the register arrives after all: it changed
        await sent(app, pilot)
        await pilot.press("up", "m")  # ...but it is the wrong one: missing again, a new revision
        await sent(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert not option(decision_dialog(app), "supplement").disabled
        await pilot.press("escape")


# -- v reveals and hides again ---------------------------------------------------------------


def key_bar(screen: CaseScreen) -> str:
    return str(screen.query_one(KeyBar).render())


async def test_v_reveals_the_id_number_and_v_again_hides_it(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION, id_number=ZHANG, name="张志强")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        masked = "210202********0318"
        assert masked in header(screen) and "v Reveal ID" in key_bar(screen)

        await pilot.press("v")
        await settle(app, pilot)
        assert ZHANG in header(screen) and masked not in header(screen)
        assert "v Hide ID" in key_bar(screen) and "Reveal ID" not in key_bar(screen)

        await pilot.press("v")  # the same key hides it again, without asking the server
        await settle(app, pilot)
        assert masked in header(screen) and ZHANG not in header(screen)
        assert screen.revealed is None and "v Reveal ID" in key_bar(screen)


# -- a refused change does not stay on screen ------------------------------------------------


def status_cell(screen: CaseScreen, material: str) -> str:
    return str(screen.query_one("#checklist", DataTable).get_cell(material, "status"))


async def test_not_applicable_is_not_allowed_on_a_mandatory_material(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    said: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            said.append(message.notification.message)

    async with app.run_test(size=SIZE, notifications=True, message_hook=hook) as pilot:
        screen = await open_claimed_case(app, pilot)
        await pilot.press("0")  # the ID card is mandatory: says why, queues nothing
        await settle(app, pilot)
        assert app.service.outbox_status.pending == 0 and not screen.local
        assert status_cell(screen, "id_card") == "to check"
        table = screen.query_one("#checklist", DataTable)
        assert table.cursor_row == 0  # the clerk stays on the row
        assert any(
            "resident identity card is mandatory, so it cannot be not applicable" in m for m in said
        ), said


async def refuse_a_mark(app: WorkbenchApp, screen: CaseScreen) -> None:
    """Queue a mark the server refuses (the keys no longer offer one: n/a on the ID card)."""
    case = screen.case
    assert case is not None
    row = next(r for r in case.checklist or [] if r.material == "id_card")
    screen._queue_mark(row, MaterialVerification(status="not_applicable"), advance=False)


async def test_a_refused_change_goes_back_to_the_servers_state_at_once(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        await refuse_a_mark(app, screen)
        assert status_cell(screen, "id_card") == "n/a ⧗"  # on its way
        for _ in range(60):
            await settle(app, pilot)
            if isinstance(app.screen, ConflictDialog):
                break
        dialog = app.screen
        assert isinstance(dialog, ConflictDialog)
        # already reverted beneath the dialog: the server never took it
        assert status_cell(screen, "id_card") == "to check" and not screen.local
        text = " ".join(str(w.render()) for w in dialog.query(Static))
        assert "The server said: Mover's resident identity card (" in text
        assert "is mandatory" in text and "id_card" not in text
        assert not dialog.query("#retry")  # sending it again could never succeed
        await pilot.press("r")
        await settle(app, pilot)
        assert app.screen is dialog

        await pilot.press("escape")  # decide later: the case shows what the server has
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        assert status_cell(screen, "id_card") == "to check"
        assert "3 mandatory materials not provided" in screen.unavailable()["accept"]

        await pilot.press("ctrl+o", "d")  # dropped in the outbox: still the server's state
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.service.outbox_status.conflicts == 0
        assert status_cell(screen, "id_card") == "to check" and not screen.local

        await pilot.press("1")  # and the next mark is sent on the right version
        await sent(app, pilot)
        assert app.service.outbox_status.conflicts == 0
        assert status_cell(screen, "id_card") == "provided"


async def test_d_opens_the_decisions_even_while_a_refusal_arrives(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        await pilot.press("down", "up")  # the clerk is at work on the checklist
        await refuse_a_mark(app, screen)
        await app.service.ws.outbox.wait_idle()  # refused by now
        await pilot.pause()
        await pilot.press("d")  # meant for this screen: not taken by the refusal dialog
        await settle(app, pilot)
        dialog = decision_dialog(app)
        assert "3 mandatory materials not provided" in str(option(dialog, "accept").prompt)
        assert app.service.outbox_status.conflicts == 1  # nothing dropped by that key
        await pilot.press("escape")
        for _ in range(60):  # the refusal is shown once the clerk pauses
            await settle(app, pilot)
            if isinstance(app.screen, ConflictDialog):
                break
        assert isinstance(app.screen, ConflictDialog)
        await pilot.press("d")
        await settle(app, pilot)
        assert app.service.outbox_status.conflicts == 0


async def test_the_checklist_gives_names_their_room_and_findings_the_rest(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        case = screen.case
        assert case is not None
        table = screen.query_one("#checklist", DataTable)
        widths = {str(key.value): column.width for key, column in table.columns.items()}
        longest = max(len(row.name_en) for row in case.checklist or [])
        assert widths["material"] > 34  # wider than before: names were cut at 34
        assert widths["material"] >= longest or widths["findings"] == 20  # or findings least
        used = sum(widths.values()) + 2 * len(widths)
        assert used == table.scrollable_content_region.width  # findings take the rest
        assert widths["findings"] >= 20
