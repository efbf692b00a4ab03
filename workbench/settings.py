"""Provides the workbench's settings: environment (`WORKBENCH_`), then a TOML config file.

`load_settings()` is the one entry point: it reads both sources and turns any invalid value into
a `SettingsError` whose message names the field and where it came from.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as SourceError

from workbench.locations import CONFIG_ENV, config_file, default_outbox_path
from workbench.startup_settings import (
    DEFAULT_IDLE_LOCK_MINUTES,
    DEFAULT_LANGUAGE,
    DEFAULT_SERVER_URL,
    DEFAULT_THEME_NAME,
)

__all__ = ["Language", "SettingsError", "WorkbenchSettings", "load_settings"]

Language = Literal["en", "zh"]


class SettingsError(Exception):
    """The settings cannot be used; the message says which field and why."""


class WorkbenchSettings(BaseSettings):
    """What one workstation is set up with."""

    model_config = SettingsConfigDict(
        env_prefix="WORKBENCH_",
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
    )

    server_url: str = DEFAULT_SERVER_URL
    """Base URL of the hall's API server (http:// or https://)."""
    hall: str | None = None
    """Code of the hall this workstation belongs to (e.g. DL-ZS)."""
    window: str | None = None
    """Window code offered at login (e.g. W03); the clerk can choose another."""
    language: Language = DEFAULT_LANGUAGE
    """Language of the interface: en or zh."""
    theme: str = DEFAULT_THEME_NAME
    """Name of the Textual theme; an unknown name falls back to the default."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Key remapping: binding id → keys, e.g. {"call-next" = "f2"}."""
    idle_lock_minutes: int = Field(default=DEFAULT_IDLE_LOCK_MINUTES, ge=0, le=24 * 60)
    """Minutes without input before the screen locks (0: never)."""
    undo_seconds: float = Field(default=5.0, ge=0, le=60)
    """Seconds a decision is held locally, so a misclick can be taken back before it is sent."""
    ca_file: Path | None = None
    """A PEM file with the hall's own certificate authority, trusted besides the public ones."""
    outbox_path: Path = Field(default_factory=default_outbox_path)
    """SQLite file holding changes not yet confirmed by the server."""
    keyring: bool = True
    """Keep the session token in the OS keyring, so a restart can resume the session; false:
    memory only, nothing read from or written to the keyring (each `workbench web` browser
    session runs this way)."""

    @field_validator("server_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL such as http://10.0.0.5:8000")
        return value.rstrip("/")

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)


def _describe(error: dict[str, object], path: Path) -> str:
    loc = error.get("loc") or ()
    name = ".".join(str(part) for part in loc) if isinstance(loc, tuple) else str(loc)
    env = f"WORKBENCH_{str(loc[0]).upper()}" if isinstance(loc, tuple) and loc else ""
    return (
        f"Setting '{name}' is invalid: {error.get('msg')} "
        f"(set it in {path} or the environment variable {env})."
    )


def load_settings(**overrides: object) -> WorkbenchSettings:
    """Read the settings; raise `SettingsError` with one clear message when they are invalid."""
    path = config_file()
    try:
        return WorkbenchSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        errors = exc.errors()
        message = _describe(dict(errors[0]), path)
        if len(errors) > 1:
            message += f" ({len(errors) - 1} more problem(s) after this one.)"
        raise SettingsError(message) from None
    except SourceError as exc:
        found = re.search(r'field "([^"]+)"', str(exc))
        name = found.group(1) if found else "?"
        raise SettingsError(
            f"Setting '{name}' is invalid: its value cannot be parsed (in the environment, "
            f'WORKBENCH_{name.upper()} takes JSON such as {{"call-next": "f2"}}); see also {path}.'
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"The config file {path} is not valid TOML: {exc} (or point {CONFIG_ENV} elsewhere)."
        ) from None
    except OSError as exc:
        raise SettingsError(f"The config file {path} cannot be read: {exc}") from None
