"""Provides the last successful login (server, user, window), kept for the next start.

Light on purpose: the login screen reads it before the client stack is loaded.
"""

from __future__ import annotations

import contextlib
import json

from workbench.locations import data_dir

__all__ = ["LAST_LOGIN_FILE", "load_last_login", "save_last_login"]

LAST_LOGIN_FILE = "last-login.json"


def load_last_login() -> dict[str, str]:
    """`{"server", "username", "window"}` of the last successful login, or {}."""
    try:
        data = json.loads((data_dir() / LAST_LOGIN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}


def save_last_login(server: str, username: str, window: str | None) -> None:
    path = data_dir() / LAST_LOGIN_FILE
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"server": server, "username": username, "window": window or ""}),
            encoding="utf-8",
        )
