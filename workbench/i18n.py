"""Provides the translation catalogue: every user-facing string by key, in English and Chinese.

The messages live in `workbench/locales/<language>.toml` (nested tables flatten to dotted keys).
`t("key.call_next")` looks a key up in the current language, falls back to English, then to the
key itself, and fills `{placeholders}` from keyword arguments. `set_language` switches at run
time and tells the listeners (the app re-renders its screens).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["LANGUAGES", "add_listener", "language", "set_language", "t"]

LOCALES = Path(__file__).parent / "locales"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
FALLBACK = "en"

Listener = Callable[[str], None]


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = str(value)
    return flat


@cache
def messages(lang: str) -> dict[str, str]:
    """The flattened catalogue of one language (empty when there is no file for it)."""
    path = LOCALES / f"{lang}.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        return _flatten(tomllib.load(handle))


class _Catalogue:
    def __init__(self) -> None:
        self.language = FALLBACK
        self.listeners: list[Listener] = []


_state = _Catalogue()


def language() -> str:
    return _state.language


def set_language(lang: str) -> None:
    """Switch the language (unknown codes fall back to English) and tell the listeners."""
    chosen = lang if lang in LANGUAGES else FALLBACK
    if chosen == _state.language:
        return
    _state.language = chosen
    for listener in list(_state.listeners):
        listener(chosen)


def add_listener(listener: Listener) -> Callable[[], None]:
    _state.listeners.append(listener)
    return lambda: _state.listeners.remove(listener)


def t(key: str, /, **values: object) -> str:
    """The message `key` in the current language, with `{name}` placeholders filled."""
    text = messages(_state.language).get(key) or messages(FALLBACK).get(key) or key
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text
