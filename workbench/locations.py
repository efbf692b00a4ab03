"""Provides the workbench's file locations: config file, data directory and outbox file.

Everything lives in the platform's directories (platformdirs); `WORKBENCH_CONFIG` points the
config file elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP_NAME = "service-workbench"
CONFIG_ENV = "WORKBENCH_CONFIG"


def config_dir() -> Path:
    return Path(user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    """`$WORKBENCH_CONFIG` when set, else `config.toml` in the platform config directory."""
    override = os.environ.get(CONFIG_ENV, "").strip()
    return Path(override).expanduser() if override else config_dir() / "config.toml"


def default_outbox_path() -> Path:
    return data_dir() / "outbox.sqlite3"
