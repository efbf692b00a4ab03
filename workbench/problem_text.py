"""Provides `problem_text`: what to tell a person about a failed call, in the current language.

A problem is shown by its `type` through the catalogue (`[problem]` of the locales), never by
the server's English `detail`, which is used only for a type the catalogue does not know. The
catalogue's placeholders are filled from the members the problem document carries: words the
catalogue knows (`[problem.value]`, e.g. a window's state) are translated, instants are written
in the hall's time (`workbench.hall_time`) and lists are joined.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api_client.errors import PROBLEM_BASE, ApiError
from workbench.hall_time import hall_clock
from workbench.i18n import FALLBACK, language, messages

__all__ = ["problem_kind", "problem_text"]

SECTION = "problem"


def problem_kind(error: ApiError) -> str:
    """The problem's kind (its `type` less the common prefix), or the client's own kind for a
    failure that carries no problem of this API (the server unreachable, an unreadable answer)."""
    problem = error.problem
    if problem is not None and problem.type.startswith(PROBLEM_BASE):
        return problem.type.removeprefix(PROBLEM_BASE)
    return error.kind


def _message(key: str) -> str | None:
    return messages(language()).get(key) or messages(FALLBACK).get(key)


def _word(value: Any) -> Any:
    if isinstance(value, str):
        instant = _instant(value)
        if instant is not None:
            return hall_clock().moment(instant)
        return _message(f"{SECTION}.value.{value}") or value
    if isinstance(value, list):
        joiner = "、" if language() == "zh" else ", "
        return joiner.join(str(_word(item)) for item in value)
    if isinstance(value, dict):
        return {name: _word(item) for name, item in value.items()}
    return value


def _instant(text: str) -> datetime | None:
    if "T" not in text or not text[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def problem_text(error: ApiError) -> str:
    """The catalogue's text for the error's problem type, filled with the values its problem
    carries; the server's detail only when the type is unknown here (or its text cannot be
    filled from what this problem carries)."""
    template = _message(f"{SECTION}.{problem_kind(error)}")
    if template is None:
        return error.message
    carried = dict(error.problem.model_extra or {}) if error.problem is not None else {}
    try:
        return template.format(**{name: _word(value) for name, value in carried.items()})
    except (KeyError, IndexError, AttributeError, TypeError, ValueError):
        return error.message
