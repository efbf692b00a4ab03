"""Provides `StartupSettings`: the few settings the login screen paints with, read without pydantic.

Importing pydantic and pydantic-settings and building the settings model costs about 0.1 s of
CPU, a third of a bare Textual start, and the first paint needs only the server, language,
theme, keymap and idle minutes. They are read here from the same sources in the same order as
`WorkbenchSettings` (overrides, then the `WORKBENCH_` environment, case-insensitive, then the
TOML config file) with the standard library, and leniently: a value that does not read keeps
its default. The app validates everything with `load_settings` in the background right after
the first paint, and an invalid setting then ends it with that function's one clear message.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from workbench.locations import config_file

__all__ = [
    "DEFAULT_IDLE_LOCK_MINUTES",
    "DEFAULT_LANGUAGE",
    "DEFAULT_SERVER_URL",
    "DEFAULT_THEME_NAME",
    "FirstPaintSettings",
    "StartupSettings",
]

DEFAULT_SERVER_URL: Final = "http://127.0.0.1:8000"
DEFAULT_LANGUAGE: Final = "en"
DEFAULT_THEME_NAME: Final = "workbench-dark"
DEFAULT_IDLE_LOCK_MINUTES: Final = 10
ENV_PREFIX: Final = "WORKBENCH_"


class FirstPaintSettings(Protocol):
    """What the app reads before the first paint: `StartupSettings` or `WorkbenchSettings`."""

    @property
    def server_url(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def theme(self) -> str: ...
    @property
    def keymap(self) -> Mapping[str, str]: ...
    @property
    def idle_lock_minutes(self) -> int: ...


@dataclass(frozen=True)
class StartupSettings:
    """The first-paint settings of one start, and the overrides to validate the rest with."""

    server_url: str = DEFAULT_SERVER_URL
    language: str = DEFAULT_LANGUAGE
    theme: str = DEFAULT_THEME_NAME
    keymap: Mapping[str, str] = field(default_factory=dict)
    idle_lock_minutes: int = DEFAULT_IDLE_LOCK_MINUTES
    overrides: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def read(cls, **overrides: object) -> StartupSettings:
        sources = (overrides, _environment(), _config_file())

        def first(name: str) -> object:
            return next((source[name] for source in sources if name in source), None)

        return cls(
            server_url=_text(first("server_url"), DEFAULT_SERVER_URL).rstrip("/"),
            language=_text(first("language"), DEFAULT_LANGUAGE),
            theme=_text(first("theme"), DEFAULT_THEME_NAME),
            keymap=_keymap(first("keymap")),
            idle_lock_minutes=_minutes(first("idle_lock_minutes")),
            overrides=dict(overrides),
        )


def _environment() -> dict[str, object]:
    found: dict[str, object] = {}
    for name, value in os.environ.items():
        if name.upper().startswith(ENV_PREFIX):
            found[name[len(ENV_PREFIX) :].lower()] = value
    if isinstance(keymap := found.get("keymap"), str):
        try:
            found["keymap"] = json.loads(keymap)
        except ValueError:
            del found["keymap"]
    return found


def _config_file() -> dict[str, object]:
    try:
        with config_file().open("rb") as file:
            return tomllib.load(file)
    except (OSError, ValueError):
        return {}


def _text(value: object, default: str) -> str:
    return value if isinstance(value, str) else default


def _keymap(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): keys for key, keys in value.items() if isinstance(keys, str)}


def _minutes(value: object) -> int:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return DEFAULT_IDLE_LOCK_MINUTES
    if isinstance(value, int) and 0 <= value <= 24 * 60:
        return value
    return DEFAULT_IDLE_LOCK_MINUTES
