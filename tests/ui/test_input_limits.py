"""Every input knows the limits of the request model it feeds (issue 24, items 1 and 2): texts
over the limit, pasted or typed with the Pilot, never crash the app; an alarm and a pause go
through with their text cut, and the clerk is told what was cut."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from annotated_types import MaxLen
from pydantic import BaseModel
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Label

from api_client.models import (
    AlarmRaise,
    IntakeApplicant,
    MaterialVerification,
    RejectDecision,
    TransferDecision,
)
from api_client.models.catalogue import PauseRequest
from screens.case import CaseScreen
from screens.dialogs import AlarmDialog, ChoiceDialog, PromptDialog, RejectDialog
from screens.field_input import FieldInput
from screens.main import MainScreen
from tests.api.cases_support import MIGRATION, intake, new_person
from tests.conftest import Backend
from tests.ui.test_case_facts import open_claimed_case
from tests.ui.test_clerk_flow import SIZE, current, log_in, make_app, settle
from tests.ui.test_main_keys import Shown
from workbench.outbox import EntryState

LETTERS = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"


def text_of(length: int) -> str:
    return "".join(LETTERS[i % len(LETTERS)] for i in range(length))


def limit_of(model: type[BaseModel], name: str) -> int:
    return next(m.max_length for m in model.model_fields[name].metadata if isinstance(m, MaxLen))


async def paste(pilot: Pilot[Any], text: str) -> None:
    focused = pilot.app.focused
    assert isinstance(focused, Input), focused
    focused.insert_text_at_cursor(text)
    await pilot.pause()


@pytest.fixture
async def supervisor(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("super01")
    yield client
    await client.aclose()


@pytest.fixture
async def portal(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("portal01")
    yield client
    await client.aclose()


# -- the limits come from the model's own field ---------------------------------------------


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (IntakeApplicant, "name"),
        (MaterialVerification, "note"),
        (RejectDecision, "reason_text"),
        (TransferDecision, "note"),
    ],
)
def test_the_input_takes_its_limit_from_the_field(model: type[BaseModel], name: str) -> None:
    field = FieldInput(model, name)
    assert field.max_length == limit_of(model, name)
    assert field.rule.validate(text_of(limit_of(model, name))).is_valid
    assert not field.rule.validate(text_of(limit_of(model, name) + 1)).is_valid
    assert not field.rule.validate("tab\there").is_valid  # control characters are refused


def test_a_text_that_is_cut_takes_any_length_but_says_so() -> None:
    field = FieldInput(AlarmRaise, "note", overflow="cut")
    assert field.max_length == 0  # no limit on typing: the alarm goes out whatever is typed
    assert field.rule.validate(text_of(300)).is_valid
    assert not field.rule.validate("bell\x07").is_valid


class PromptHarness(App[None]):
    """One prompt of a request-model field, on a bare app, answer kept."""

    def __init__(self, dialog: PromptDialog | RejectDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.answers: list[object] = []

    def compose(self) -> ComposeResult:
        yield Label("below")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


async def test_a_long_paste_is_cut_to_the_limit_and_the_input_says_so() -> None:
    limit = limit_of(TransferDecision, "note")
    app = PromptHarness(PromptDialog("note", field=(TransferDecision, "note")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await paste(pilot, text_of(limit + 100))
        field = app.screen.query_one(FieldInput)
        assert len(field.value) == limit
        assert f"At most {limit} characters" in str(field.border_subtitle)
        assert "100 left out" in str(field.border_subtitle)
        await pilot.press(*"xyz")  # full: refused, and counted with what the paste lost
        assert len(field.value) == limit and "103 left out" in str(field.border_subtitle)
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers == [text_of(limit)]
        TransferDecision(decision="transfer", target_window="W02", note=str(app.answers[0]))


async def test_control_characters_are_said_inline_and_never_returned() -> None:
    app = PromptHarness(RejectDialog([("incomplete", "Incomplete")]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # the reason: the text Input takes the focus
        await paste(pilot, "wrong\x1b[31m form\x07")
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers == []
        assert "Control characters" in str(app.screen.query_one("#dialog-error", Label).render())
        await pilot.press("ctrl+u")  # Textual's "delete to the start"
        await pilot.press(*"wrong form", "enter")
        await pilot.pause()
        assert app.answers == [("incomplete", "wrong form")]


# -- every place the clerk's text builds a request, through the real app ---------------------


async def test_a_visitor_name_over_the_limit_never_crashes_the_app(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    limit = limit_of(IntakeApplicant, "name")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("w", "1", "n")  # a walk-in: n asks for the ID number, then the name
        await settle(app, pilot)
        await pilot.press(*new_person(), "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptDialog)
        await paste(pilot, text_of(150))
        await pilot.press(*"abc")  # typed past the limit too
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case is not None
        assert screen.case.applicant.name == text_of(limit)


async def test_a_material_note_over_the_limit_never_crashes_the_app(
    fresh_backend: Backend, portal: httpx.AsyncClient, tmp_path: Path
) -> None:
    limit = limit_of(MaterialVerification, "note")
    await intake(portal, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_claimed_case(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await paste(pilot, text_of(600))
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and screen.case is not None and screen.case.checklist
        assert screen.case.checklist[0].note == text_of(limit)


async def test_an_alarm_with_a_long_note_is_raised_with_the_note_cut(
    fresh_backend: Backend, supervisor: httpx.AsyncClient, tmp_path: Path
) -> None:
    limit = limit_of(AlarmRaise, "note")
    app = make_app(fresh_backend, tmp_path)
    shown = Shown()
    async with app.run_test(size=SIZE, notifications=True, message_hook=shown.hook) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("f12")
        await settle(app, pilot)
        assert isinstance(app.screen, AlarmDialog)
        await pilot.press(*"W01", "tab")
        await paste(pilot, text_of(300))
        note = app.screen.query_one("#alarm-note", FieldInput)
        assert len(note.value) == 300 and f"300/{limit}: the rest is cut" in str(
            note.border_subtitle
        )
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        alarms = (await supervisor.get("/api/v1/alarms")).json()["items"]
        assert [a["note"] for a in alarms] == [text_of(limit)]
        assert shown.any("Alarm sent")
        assert shown.any("the last 100 characters did not fit")
        session = app.service.session
        assert session is not None
        sent = await session.outbox.entries(EntryState.SENT)
        assert any(text_of(300) in entry.label for entry in sent)


async def test_a_pause_with_a_long_reason_pauses_with_the_reason_cut(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    limit = limit_of(PauseRequest, "reason")
    app = make_app(fresh_backend, tmp_path)
    shown = Shown()
    async with app.run_test(size=SIZE, notifications=True, message_hook=shown.hook) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("z")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("4")  # other: type the reason
        await settle(app, pilot)
        await paste(pilot, text_of(300))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.service.paused
        window = app.service.windows["W01"]
        assert window.pause_reason == text_of(limit)
        assert shown.any("The pause reason: the last 100 characters did not fit")
        assert current(app) is None
