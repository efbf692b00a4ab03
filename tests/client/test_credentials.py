"""Credentials: the token in a real keyring backend, or in memory with one clear warning."""

from __future__ import annotations

import logging

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError

from workbench import credentials
from workbench.credentials import NO_KEYRING_WARNING, CredentialStore


class DictKeyring(KeyringBackend):
    """A working keyring backend that keeps its secrets in a dict (no files)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise KeyringLocked("locked")
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise KeyringLocked("locked")
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise PasswordDeleteError("none")
        del self.items[(service, username)]


@pytest.fixture(autouse=True)
def _fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "_warned", False)


def test_a_real_backend_keeps_the_token() -> None:
    backend = DictKeyring()
    store = CredentialStore(backend)
    store.set("http://hall|clerk01", "t0ken")
    assert store.persistent and store.warning is None
    assert backend.items == {("service-workbench", "http://hall|clerk01"): "t0ken"}
    assert CredentialStore(backend).get("http://hall|clerk01") == "t0ken"
    store.delete("http://hall|clerk01")
    store.delete("http://hall|clerk01")
    assert store.get("http://hall|clerk01") is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_no_usable_backend_falls_back_to_memory_and_warns_once(
    backend: KeyringBackend, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="workbench.credentials"):
        store = CredentialStore(backend)
        CredentialStore(backend)
    assert not store.persistent and store.warning == NO_KEYRING_WARNING
    assert [r.getMessage().startswith(NO_KEYRING_WARNING) for r in caplog.records] == [True]
    store.set("acct", "secret-token")
    assert store.get("acct") == "secret-token"
    assert "secret-token" not in caplog.text


def test_the_environment_backend_of_the_tests_is_memory_only() -> None:
    store = CredentialStore()
    assert not store.persistent
    store.set("acct", "x")
    assert store.get("acct") == "x"


def test_a_backend_that_starts_failing_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    backend = DictKeyring()
    store = CredentialStore(backend)
    backend.locked = True
    with caplog.at_level(logging.WARNING, logger="workbench.credentials"):
        store.set("acct", "secret-token")
    assert not store.persistent and store.get("acct") == "secret-token"
    assert "secret-token" not in caplog.text
