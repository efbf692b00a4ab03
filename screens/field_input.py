"""Provides `FieldInput`: an Input that knows the limits of the request-model field it feeds.

The limits are read from the pydantic field itself (`Model.model_fields[name]`), never copied:
the Input's `max_length` is the field's, and its validator runs the field's own validation, so
a text the model would refuse is caught while it is typed and said inline (in the Input's
border), instead of failing when the request is built.

A field whose overflow is `cut` (an alarm's note, a pause reason: things that must go through
whatever the clerk typed) takes any length; the Input only says how much will be cut.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from workbench.field_limits import field_max_length
from workbench.i18n import t

__all__ = ["FieldInput", "FieldRule", "Overflow"]

Overflow = Literal["refuse", "cut"]


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in text)


class FieldRule(Validator):
    """Runs the validation of one field of a request model on the text typed for it."""

    def __init__(self, model: type[BaseModel], name: str, *, overflow: Overflow = "refuse"):
        super().__init__()
        field = model.model_fields[name]
        strip = bool(model.model_config.get("str_strip_whitespace"))
        annotated: Any = Annotated[field.annotation, field]
        self.adapter: TypeAdapter[Any] = TypeAdapter(
            annotated, config=ConfigDict(str_strip_whitespace=strip)
        )
        self.max_length = field_max_length(model, name)
        self.overflow = overflow

    def validate(self, value: str) -> ValidationResult:
        if has_control_characters(value):
            return self.failure(t("input.control"))
        length = len(value.strip())
        if self.overflow == "cut" and self.max_length is not None and length > self.max_length:
            # not a failure: the text goes through, cut; the Input says so
            value = value.strip()[: self.max_length]
        try:
            self.adapter.validate_python(value)
        except ValidationError as error:
            return self.failure(self._describe(error, length))
        return self.success()

    def _describe(self, error: ValidationError, length: int) -> str:
        first = error.errors()[0]
        context = first.get("ctx") or {}
        if first["type"] == "string_too_long":
            return t("input.too_long", limit=context.get("max_length"), count=length)
        if first["type"] == "string_too_short":
            return t("dialog.required") if length == 0 else t("input.too_short", **context)
        return t("input.invalid", message=first["msg"])


class FieldInput(Input):
    """An Input for `model.name`: its limits, its validation, its problems said in its border."""

    def __init__(
        self,
        model: type[BaseModel],
        name: str,
        value: str = "",
        *,
        overflow: Overflow = "refuse",
        placeholder: str = "",
        id: str | None = None,
    ) -> None:
        self.rule = FieldRule(model, name, overflow=overflow)
        limit = self.rule.max_length if overflow == "refuse" else None
        super().__init__(
            value,
            placeholder=placeholder,
            max_length=limit or 0,
            validators=[self.rule],
            validate_on=["changed", "submitted"],
            valid_empty=True,
            id=id,
        )
        self._cut_by = 0

    @property
    def problem(self) -> str | None:
        """What is wrong with the text now (None when the model would take it)."""
        result = self.rule.validate(self.value)
        if not result.is_valid:
            return "; ".join(result.failure_descriptions)
        return None

    def replace(self, text: str, start: int, end: int) -> None:
        """A paste longer than the room left goes in cut to fit, and the Input says so."""
        limit = self.max_length
        room = max(0, limit - (len(self.value) - abs(end - start))) if limit else len(text)
        cut = max(0, len(text) - room)
        # keys typed into a full Input (a burst, a card reader) add up to what was left out
        self._cut_by = self._cut_by + cut if cut and not room and self._cut_by else cut
        super().replace(text[:room], start, end)
        if self._cut_by:
            self.app.bell()
            self._show()  # nothing may have fitted: the value did not change

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        if self.is_mounted:
            self._show()

    def _show(self) -> None:
        if self._cut_by:
            self.border_subtitle = t("input.cut", limit=self.max_length, cut=self._cut_by)
            return
        if self.problem:
            self.border_subtitle = self.problem
            return
        limit, length = self.rule.max_length, len(self.value.strip())
        if self.rule.overflow == "cut" and limit is not None and length > limit:
            self.border_subtitle = t("input.will_cut", limit=limit, count=length)
        else:
            self.border_subtitle = ""
