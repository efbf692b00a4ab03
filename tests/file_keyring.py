"""Provides `FileKeyring`: a real keyring backend keeping its entries in a JSON file named by
`$WORKBENCH_TEST_KEYRING_FILE`, so a test can stand in for the serving machine's OS keyring
across processes (`PYTHON_KEYRING_BACKEND=tests.file_keyring.FileKeyring`) and read afterwards
what the processes stored there."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend

ENV = "WORKBENCH_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    priority = 1.0  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[ENV])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}|{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}|{username}"] = password
        self._path().write_text(json.dumps(entries))

    def delete_password(self, service: str, username: str) -> None:
        entries = self._load()
        entries.pop(f"{service}|{username}", None)
        self._path().write_text(json.dumps(entries))
