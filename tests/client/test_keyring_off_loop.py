"""A slow keyring (a locked Secret Service waiting for its prompt) never freezes the event loop:
the session and the desk ask it on a thread, and the loop goes on meanwhile."""

from __future__ import annotations

import asyncio
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
        self.spans: list[tuple[float, float]] = []
        """When each call began and ended (monotonic)."""

    def _wait(self) -> None:
        self.calls += 1
        began = time.monotonic()
        time.sleep(DELAY)
        self.spans.append((began, time.monotonic()))

    def get_password(self, service: str, username: str) -> str | None:
        self._wait()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait()
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._wait()
        self.entries.pop((service, username), None)


async def beats_during(work: Awaitable[object], keyring: SlowKeyring) -> int:
    """Run `work` while a ticker runs on the same loop: how many beats fell inside the keyring
    call that `work` made (none when the call blocked the loop)."""
    beats: list[float] = []
    calls_before = len(keyring.spans)

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
    [(began, ended)] = keyring.spans[calls_before:]
    return sum(began < beat < ended for beat in beats)


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
        assert await beats_during(session.login("clerk04", DEMO_PASSWORD, "W04"), keyring) > 0
        assert time.monotonic() - started >= DELAY and keyring.calls == 1  # the token was kept
        assert await beats_during(session.resume("clerk04"), keyring) > 0
        assert await beats_during(session.logout(), keyring) > 0
        assert keyring.calls == 3 and not keyring.entries

    desk = DeskService(settings, credentials=credentials)
    try:
        saved = desk.has_saved_session(fresh_backend.base_url, "clerk04")
        assert await beats_during(saved, keyring) > 0
        assert keyring.calls == 4
    finally:
        await desk.close()
