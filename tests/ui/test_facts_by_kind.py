"""The facts form follows the material's kind (issue 24, item 8): an ID card's form asks for
its expiry, a birth certificate's does not, a business licence's asks for a credit code, a
form's only whose it is; and through the app, a birth certificate's facts get no expiry check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, Label

from api_client.models import DocumentFacts
from screens.case import CaseScreen
from screens.facts_dialog import FactsDialog
from tests.api.cases_support import intake
from tests.conftest import Backend
from tests.ui.test_case_facts import open_claimed_case
from tests.ui.test_clerk_flow import SIZE, make_app, settle

BIRTH_REGISTRATION = "GA-005"


class FactsHarness(App[None]):
    def __init__(self, dialog: FactsDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.answers: list[DocumentFacts | None] = []

    def compose(self) -> ComposeResult:
        yield Label("below")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


def asked(dialog: FactsDialog) -> list[str]:
    return [str(i.id).removeprefix("facts-") for i in dialog.query(Input)]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("id_card", ["holder-name", "id-number", "birth-date", "sex", "valid-until"]),
        ("business_licence", ["holder-name", "id-number", "valid-until"]),
        ("certificate", ["holder-name", "id-number", "birth-date", "sex"]),
        ("form", ["holder-name", "id-number"]),
    ],
)
async def test_the_form_asks_only_the_facts_of_the_materials_kind(
    kind: str, expected: list[str]
) -> None:
    app = FactsHarness(FactsDialog("the material", kind=kind))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert asked(app.dialog) == expected


async def test_a_certificate_the_catalogue_marks_for_expiry_is_asked_its_expiry() -> None:
    app = FactsHarness(FactsDialog("permit", kind="certificate", needs_expiry_check=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert asked(app.dialog)[-1] == "valid-until"


async def test_a_business_licence_is_asked_its_credit_code() -> None:
    app = FactsHarness(FactsDialog("licence", kind="business_licence"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        labels = [str(label.render()) for label in app.dialog.query("#facts-grid Label")]
        assert "Credit code" in labels and "Sex" not in labels
        await pilot.press(*"Dalian Haibin Trading Co.", "tab", *"91210202MA0Q4ABC1X", "enter")
        await pilot.pause()
        facts = app.answers[0]
        assert facts is not None and facts.id_kind == "credit_code"
        assert facts.valid_until is None and facts.sex is None


async def test_a_holder_name_over_the_limit_is_cut_and_said() -> None:
    app = FactsHarness(FactsDialog("ID card", kind="id_card"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        holder = app.dialog.query_one("#facts-holder-name", Input)
        holder.insert_text_at_cursor("王" * 150)
        await pilot.press("enter")
        await pilot.pause()
        facts = app.answers[0]
        assert facts is not None and facts.holder_name == "王" * 100


@pytest.fixture
async def portal(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("portal01")
    yield client
    await client.aclose()


async def test_a_birth_certificates_facts_get_no_expiry_check(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal, item=BIRTH_REGISTRATION, name="王小明")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_claimed_case(app, pilot)
        assert screen.case is not None and screen.case.checklist
        rows = [row.material for row in screen.case.checklist]
        table = screen.query_one("#checklist", DataTable)
        table.move_cursor(row=rows.index("birth_certificate"))
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FactsDialog)
        assert "valid-until" not in asked(dialog)
        await pilot.press(*"Wang Xiaobao", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case is not None
        findings = {
            f.code for f in app.screen.case.findings or [] if f.material == "birth_certificate"
        }
        assert not findings & {"document_expired", "expiry_not_recorded"}
        row = next(r for r in app.screen.case.checklist or [] if r.material == "birth_certificate")
        assert row.kind == "certificate" and row.document is not None
        assert row.document.holder_name == "Wang Xiaobao"
