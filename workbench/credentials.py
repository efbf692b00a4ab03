"""Provides `CredentialStore`: the session token in the OS keyring, or in memory only.

With no usable keyring backend (none installed, or only the fail/null backends) the store says
so once, through the log and its `warning` attribute for the UI, and keeps tokens in this
process's memory: nothing secret is ever written to a plain file or a log line.

Code on an event loop uses the `a`-methods: they ask the keyring on a thread, so a slow keyring
(a locked Secret Service waiting for its password prompt) never freezes the screen.
"""

from __future__ import annotations

import asyncio
import logging

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

__all__ = ["SERVICE", "CredentialStore"]

SERVICE = "service-workbench"
NO_KEYRING_WARNING = (
    "No usable system keyring was found, so the session token is kept in memory only: "
    "you will have to log in again after restarting the workbench."
)

log = logging.getLogger(__name__)
_warned = False


def _usable(backend: KeyringBackend) -> bool:
    """The fail and null backends (priority <= 0) do not keep anything."""
    try:
        return float(backend.priority) > 0
    except Exception:  # a backend whose priority check itself fails is not usable
        return False


def _warn_once(reason: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning("%s (%s)", NO_KEYRING_WARNING, reason)


class CredentialStore:
    """Keeps one token per account (`server_url|username`) for the workbench."""

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        service: str = SERVICE,
        memory_only: bool = False,
    ) -> None:
        """`memory_only`: never touch the OS keyring (a browser session of `workbench web`
        must not read or write the keyring of the machine serving it)."""
        self.service = service
        self._memory: dict[str, str] = {}
        self.warning: str | None = None
        self._backend: KeyringBackend | None = None
        if memory_only:
            return
        self._backend = backend or keyring.get_keyring()
        if not _usable(self._backend):
            self._fall_back(f"keyring backend {type(self._backend).__name__} keeps nothing")

    @property
    def persistent(self) -> bool:
        """Whether tokens survive a restart (a real keyring backend is in use)."""
        return self._backend is not None

    def _fall_back(self, reason: str) -> None:
        self._backend = None
        self.warning = NO_KEYRING_WARNING
        _warn_once(reason)

    def get(self, account: str) -> str | None:
        if self._backend is not None:
            try:
                return self._backend.get_password(self.service, account)
            except KeyringError as exc:
                self._fall_back(f"reading failed: {type(exc).__name__}")
        return self._memory.get(account)

    def set(self, account: str, token: str) -> None:
        if self._backend is not None:
            try:
                self._backend.set_password(self.service, account, token)
                return
            except KeyringError as exc:
                self._fall_back(f"writing failed: {type(exc).__name__}")
        self._memory[account] = token

    def delete(self, account: str) -> None:
        self._memory.pop(account, None)
        if self._backend is None:
            return
        try:
            self._backend.delete_password(self.service, account)
        except PasswordDeleteError:
            pass
        except KeyringError as exc:
            self._fall_back(f"deleting failed: {type(exc).__name__}")

    async def aget(self, account: str) -> str | None:
        """`get`, with the keyring asked on a thread."""
        if self._backend is None:
            return self._memory.get(account)
        return await asyncio.to_thread(self.get, account)

    async def aset(self, account: str, token: str) -> None:
        """`set`, with the keyring asked on a thread."""
        if self._backend is None:
            self._memory[account] = token
            return
        await asyncio.to_thread(self.set, account, token)

    async def adelete(self, account: str) -> None:
        """`delete`, with the keyring asked on a thread."""
        if self._backend is None:
            self._memory.pop(account, None)
            return
        await asyncio.to_thread(self.delete, account)
