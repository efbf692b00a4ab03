"""Provides `FactsDialog`: the clerk types what a paper document says, for the automatic checks.

The form asks for the facts the material's kind carries (`api_client.material_kinds`): an ID
card's holder, number, birth date, sex and expiry; a business licence's firm, credit code and
operating term; a certificate's holder, number, birth date and sex (it does not expire); a
form's holder and number. They go with the material's verification, and the backend runs its
checks on them (check digit, expiry, name and birth date/sex against the applicant). Bad input
is named on the form; nothing is sent until the form is valid.
"""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label

from api_client.material_kinds import document_facts
from api_client.models import DocumentFacts, DocumentFactsOut
from api_client.models.cases import Sex
from screens.base import DeskModal
from screens.field_input import FieldInput
from screens.stylesheets import beside
from workbench.i18n import t

__all__ = ["FactsDialog", "parse_date", "parse_sex"]

FIELDS = ("holder_name", "id_number", "birth_date", "sex", "valid_until")
SEXES: dict[str, Sex] = {
    "m": "male",
    "male": "male",
    "男": "male",
    "f": "female",
    "female": "female",
    "女": "female",
}
LONG_TERM = frozenset({"长期", "long-term", "long term", "permanent"})
LONG_TERM_DATE = date(9999, 12, 31)
"""How a document valid without end (长期) is recorded, as registry systems commonly do."""


def parse_date(text: str) -> date:
    """`2031-05-01`, `2031.05.01`, `2031/5/1` or `20310501` (ValueError otherwise)."""
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    parts = re.split(r"[-./年月日]", text.rstrip("日"))
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def parse_sex(text: str) -> Sex:
    """m/f, male/female or 男/女 (ValueError otherwise)."""
    sex = SEXES.get(text.strip().lower())
    if sex is None:
        raise ValueError(text)
    return sex


class FactsDialog(DeskModal[DocumentFacts | None]):
    """The facts of one document; Enter in any field saves, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "key.cancel", tooltip="tip.cancel", id="facts-cancel")
    ]

    DEFAULT_CSS = beside(__file__)

    def __init__(
        self,
        material: str,
        known: DocumentFactsOut | None = None,
        *,
        kind: str = "id_card",
        needs_expiry_check: bool = False,
    ) -> None:
        super().__init__()
        self.material = material
        self.known = known
        self.kind = kind
        self.fields = document_facts(kind, needs_expiry_check)
        """The facts this kind of material carries: the only ones asked for."""

    def _label(self, field: str, suffix: str = "") -> str:
        """The field's label (or hint), as this kind of material names it."""
        own = f"facts.{self.kind}.{field}{suffix}"
        text = t(own)
        return text if text != own else t(f"facts.{field}{suffix}")

    def _value(self, field: str) -> str:
        known = self.known
        if known is None:
            return ""
        if field == "sex":
            return known.sex[0].upper() if known.sex else ""
        if field == "id_number":
            return ""  # shown masked by the API: the clerk types it again
        value = getattr(known, field)
        if value == LONG_TERM_DATE:
            return t("facts.long_term")
        return value.isoformat() if isinstance(value, date) else (value or "")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(t("facts.title", material=self.material), classes="dialog-title")
            with Grid(id="facts-grid"):
                for field in self.fields:
                    yield Label(self._label(field))
                    hint, value = self._label(field, "_hint"), self._value(field)
                    widget_id = f"facts-{field.replace('_', '-')}"
                    if field in ("holder_name", "id_number"):
                        yield FieldInput(
                            DocumentFacts, field, value, placeholder=hint, id=widget_id
                        )
                    else:
                        yield Input(value=value, placeholder=hint, id=widget_id)
            yield Checkbox(
                t("facts.of_applicant"),
                value=self.known.of_applicant if self.known else True,
                id="facts-of-applicant",
            )
            yield Label("", id="dialog-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("facts.save"), variant="primary", id="confirm")
                yield Button(t("dialog.cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#facts-holder-name", Input).focus()

    def _text(self, field: str) -> str:
        if field not in self.fields:
            return ""
        return self.query_one(f"#facts-{field.replace('_', '-')}", Input).value.strip()

    def _error(self, message: str, field: str | None = None) -> None:
        self.query_one("#dialog-error", Label).update(message)
        if field in self.fields:
            self.query_one(f"#facts-{field.replace('_', '-')}", Input).focus()

    def facts(self) -> DocumentFacts | None:
        """The typed facts, or None after naming what is wrong on the form."""
        values: dict[str, object] = {}
        for field_input in self.query(FieldInput):
            if field_input.value.strip() and (problem := field_input.problem):
                self._error(
                    problem, (field_input.id or "").removeprefix("facts-").replace("-", "_")
                )
                return None
        name, number = self._text("holder_name"), self._text("id_number")
        if name:
            values["holder_name"] = name
        if number:
            values["id_number"] = number.upper().replace(" ", "")
        for field in ("birth_date", "valid_until"):
            text = self._text(field)
            if not text:
                continue
            if field == "valid_until" and text.lower() in LONG_TERM:
                values[field] = LONG_TERM_DATE
                continue
            try:
                values[field] = parse_date(text)
            except ValueError:
                label = self._label(field)
                self._error(t("facts.bad_date", field=label, value=text), field)
                return None
        if sex := self._text("sex"):
            try:
                values["sex"] = parse_sex(sex)
            except ValueError:
                self._error(t("facts.bad_sex", value=sex), "sex")
                return None
        if not values:
            self._error(t("facts.empty"), "holder_name")
            return None
        values["of_applicant"] = self.query_one("#facts-of-applicant", Checkbox).value
        if self.kind == "business_licence" and "id_number" in values:
            values["id_kind"] = "credit_code"
        try:
            return DocumentFacts.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            where = str(first["loc"][0]) if first["loc"] else None
            label = self._label(where) if where in FIELDS else (where or "")
            self._error(t("facts.invalid", field=label, message=first["msg"]), where)
            return None

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def _save(self) -> None:
        facts = self.facts()
        if facts is not None:
            self.dismiss(facts)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
