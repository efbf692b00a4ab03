"""Provides `FactsDialog`: the clerk types what a paper document says, for the automatic checks.

The facts (holder, ID number, birth date, sex, expiry) go with the material's verification, and
the backend runs its checks on them (check digit, expiry, name and birth date/sex against the
applicant). Bad input is named on the form; nothing is sent until the form is valid.
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

from api_client.models import DocumentFacts, DocumentFactsOut
from api_client.models.cases import Sex
from screens.base import DeskModal
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

    def __init__(self, material: str, known: DocumentFactsOut | None = None) -> None:
        super().__init__()
        self.material = material
        self.known = known

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
                for field in FIELDS:
                    yield Label(t(f"facts.{field}"))
                    yield Input(
                        value=self._value(field),
                        placeholder=t(f"facts.{field}_hint"),
                        id=f"facts-{field.replace('_', '-')}",
                    )
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
        return self.query_one(f"#facts-{field.replace('_', '-')}", Input).value.strip()

    def _error(self, message: str, field: str | None = None) -> None:
        self.query_one("#dialog-error", Label).update(message)
        if field in FIELDS:
            self.query_one(f"#facts-{field.replace('_', '-')}", Input).focus()

    def facts(self) -> DocumentFacts | None:
        """The typed facts, or None after naming what is wrong on the form."""
        values: dict[str, object] = {}
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
                label = t(f"facts.{field}")
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
        try:
            return DocumentFacts.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            where = str(first["loc"][0]) if first["loc"] else None
            label = t(f"facts.{where}") if where in FIELDS else (where or "")
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
