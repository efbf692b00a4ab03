"""A slow keyring (a locked Secret Service waiting for its prompt) never freezes the event loop:
the session and the desk ask it on a thread, and the loop goes on meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable
from pathlib import Path

from keyring.backend import KeyringBackend

from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend
from workbench.credentials import CredentialStore
from workbench.services import DeskService
from workbench.session import WorkbenchSession
from workbench.settings import load_settings

DELAY = 0.5
"""How long each keyring call of the slow backend takes."""
TICK = 0.02


class SlowKeyring(KeyringBackend):
    """A real keyring backend (in memory) whose every call takes `DELAY` seconds."""

    priority = 1.0  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.calls = 0

    def _wait(self) -> None:
        self.calls += 1
        time.sleep(DELAY)

    def get_password(self, service: str, username: str) -> str | None:
        self._wait()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait()
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._wait()
        self.entries.pop((service, username), None)


async def longest_pause(work: Awaitable[object]) -> float:
    """Run `work` while a ticker runs on the same loop: the longest the ticker waited."""
    beats: list[float] = []

    async def tick() -> None:
        while True:
            beats.append(time.monotonic())
            await asyncio.sleep(TICK)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        await work
    finally:
        ticker.cancel()
    beats.append(time.monotonic())
    return max(b - a for a, b in itertools.pairwise(beats))


async def test_the_loop_goes_on_while_the_keyring_is_slow(
    tmp_path: Path, fresh_backend: Backend
) -> None:
    keyring = SlowKeyring()
    credentials = CredentialStore(keyring)
    settings = load_settings(
        server_url=fresh_backend.base_url, outbox_path=tmp_path / "o.db", undo_seconds=0
    )
    async with WorkbenchSession(settings, credentials=credentials) as session:
        started = time.monotonic()
        assert await longest_pause(session.login("clerk04", DEMO_PASSWORD, "W04")) < DELAY / 2
        assert time.monotonic() - started >= DELAY and keyring.calls == 1  # the token was kept
        assert await longest_pause(session.resume("clerk04")) < DELAY / 2
        assert await longest_pause(session.logout()) < DELAY / 2
        assert keyring.calls == 3 and not keyring.entries

    desk = DeskService(settings, credentials=credentials)
    try:
        saved = desk.has_saved_session(fresh_backend.base_url, "clerk04")
        assert await longest_pause(saved) < DELAY / 2
        assert keyring.calls == 4
    finally:
        await desk.close()
