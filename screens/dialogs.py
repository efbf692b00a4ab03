"""Provides the workbench's dialogs: modal screens that return the clerk's answer by `dismiss`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from pydantic import BaseModel
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from api_client.models import AlarmRaise, RejectDecision
from screens.base import DeskModal
from screens.field_input import FieldInput, Overflow
from workbench.i18n import t

__all__ = [
    "AlarmDialog",
    "ChoiceDialog",
    "ConfirmDialog",
    "NoticeDialog",
    "PromptDialog",
    "RejectDialog",
]

CANCEL: BindingType = Binding(
    "escape", "cancel", "key.cancel", tooltip="tip.cancel", id="dialog-cancel"
)


class ConfirmDialog(DeskModal[bool]):
    """Yes or no; Enter confirms, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(self, message: str, *, confirm: str | None = None, danger: bool = False) -> None:
        super().__init__()
        self.message = message
        self.confirm_label = confirm
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.message, classes="dialog-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self.confirm_label or t("dialog.yes"),
                    variant="error" if self.danger else "primary",
                    id="confirm",
                )
                yield Button(t("dialog.no"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class ChoiceDialog(DeskModal[str | None]):
    """Pick one of a few options (digits 1–9 pick directly).

    `unavailable` maps option values to why they cannot be chosen now: those are shown greyed
    with the reason, and picking one (by its digit) only says why.
    """

    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(
        self,
        title: str,
        options: Sequence[tuple[str, str]],
        *,
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.unavailable = dict(unavailable or {})

    def _option(self, index: int, value: str, label: str) -> Option:
        prompt = f"{index}  {label}" if index < 10 else label
        reason = self.unavailable.get(value)
        if reason is None:
            return Option(prompt, id=value)
        return Option(
            Content.assemble(prompt, (f"  — {reason}", "italic")), id=value, disabled=True
        )

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(
                *(
                    self._option(i, value, label)
                    for i, (value, label) in enumerate(self.options, start=1)
                ),
                id="choices",
            )
            if self.unavailable:
                yield Label("", id="dialog-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        key = event.character or ""
        if key.isdigit() and 1 <= int(key) <= min(9, len(self.options)):
            # the digit is spent here: once this dialog is gone it must not also reach the
            # screen below (on the case screen "1" would mark a material "original")
            event.stop()
            event.prevent_default()
            value = self.options[int(key) - 1][0]
            reason = self.unavailable.get(value)
            if reason is not None:
                self.query_one("#dialog-error", Label).update(reason)
                return
            self.dismiss(value)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id not in self.unavailable:
            self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


FieldSpec = tuple[type[BaseModel], str]
"""The request model and field a typed text goes to: its limits are the Input's."""


class PromptDialog(DeskModal[str | None]):
    """Ask for one line of text; `required` refuses an empty answer, and `field` (the model
    and field the answer feeds) gives the Input that field's limits: a text the model would
    refuse is never returned (with `overflow="cut"` a longer one is, for the caller to cut)."""

    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(
        self,
        title: str,
        *,
        placeholder: str = "",
        value: str = "",
        required: bool = True,
        field: FieldSpec | None = None,
        overflow: Overflow = "refuse",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value
        self.required = required
        self.field = field
        self.overflow: Overflow = overflow

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            if self.field is None:
                yield Input(value=self.value, placeholder=self.placeholder, id="answer")
            else:
                model, name = self.field
                yield FieldInput(
                    model,
                    name,
                    self.value,
                    overflow=self.overflow,
                    placeholder=self.placeholder,
                    id="answer",
                )
            yield Label("", id="dialog-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self.required and not value:
            self.query_one("#dialog-error", Label).update(t("dialog.required"))
            return
        if value and isinstance(event.input, FieldInput) and event.input.problem:
            self.query_one("#dialog-error", Label).update(event.input.problem)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AlarmDialog(DeskModal[str | None]):
    """The emergency alarm: the clerk must type the window code to send it (no accidents)."""

    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(self, window: str) -> None:
        super().__init__()
        self.window = window

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-alarm"):
            yield Label(t("alarm.title"), classes="dialog-title")
            yield Static(t("alarm.explain", window=self.window))
            yield Input(placeholder=self.window, id="alarm-code")
            yield FieldInput(
                AlarmRaise, "note", overflow="cut", placeholder=t("alarm.note"), id="alarm-note"
            )
            yield Label("", id="dialog-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one("#alarm-code", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        code = self.query_one("#alarm-code", Input).value.strip().upper()
        if code != self.window.upper():
            self.query_one("#dialog-error", Label).update(t("alarm.mismatch", window=self.window))
            return
        note = self.query_one("#alarm-note", FieldInput)
        if note.value.strip() and note.problem:  # a control character: said in its border
            self.query_one("#dialog-error", Label).update(note.problem)
            note.focus()
            return
        self.dismiss(note.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoticeDialog(DeskModal[bool]):
    """Shows a notice or list (a one-time notice before it is sent, owed materials) to confirm.

    With `pledge` the clerk must also tick that the applicant signed the pledge.
    """

    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(self, title: str, body: str, *, confirm: str, pledge: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm
        self.pledge = pledge

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(classes="notice"):
                yield Static(self.body, markup=False)
            if self.pledge:
                yield Checkbox(t("owed.pledge"), id="pledge")
            yield Label("", id="dialog-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, variant="primary", id="confirm")
                yield Button(t("dialog.cancel"), id="cancel")

    def on_mount(self) -> None:
        target = "#pledge" if self.pledge else "#confirm"
        self.query_one(target).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.pledge and not self.query_one("#pledge", Checkbox).value:
            self.query_one("#dialog-error", Label).update(t("owed.pledge_required"))
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class RejectDialog(DeskModal[tuple[str, str] | None]):
    """A reason from the hall's list and free text; both required."""

    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(self, reasons: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.reasons = list(reasons)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(t("reject.title"), classes="dialog-title")
            yield OptionList(
                *(Option(label, id=code) for code, label in self.reasons), id="reasons"
            )
            yield FieldInput(
                RejectDecision, "reason_text", placeholder=t("reject.text"), id="reason-text"
            )
            yield Label("", id="dialog-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _reason(self) -> None:
        self.query_one("#reason-text", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        text = event.value.strip()
        if index is None or not text:
            self.query_one("#dialog-error", Label).update(t("reject.required"))
            return
        if problem := self.query_one("#reason-text", FieldInput).problem:
            self.query_one("#dialog-error", Label).update(problem)
            return
        self.dismiss((self.reasons[index][0], text))

    def action_cancel(self) -> None:
        self.dismiss(None)
