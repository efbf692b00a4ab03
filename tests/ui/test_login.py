"""The login screen driven from the keyboard against the real backend: Enter in the password
field logs in, an empty required field gets the cursor and a reason, the user field never shows
a made-up name, the last user comes back as a real value, a kept session is offered once the
keyring has answered; and `workbench demo` ends cleanly when its terminal hangs up."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from screens.app import WorkbenchApp
from screens.login import LoginScreen
from screens.main import MainScreen
from tests.conftest import Backend
from tests.file_keyring import ENV as KEYRING_FILE_ENV
from tests.file_keyring import FileKeyring
from tests.ui.test_clerk_flow import ACCOUNTS, SIZE, make_app, settle
from workbench.credentials import CredentialStore
from workbench.i18n import t
from workbench.services import DeskService
from workbench.settings import WorkbenchSettings


def error_text(app: WorkbenchApp) -> str:
    return str(app.screen.query_one("#login-error").render())


async def test_user_tab_password_enter_logs_in(backend: Backend, tmp_path: Path) -> None:
    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.focused is app.screen.query_one("#user", Input)
        await pilot.press(*"clerk01", "tab", *"demo1234", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen), app.screen
        assert app.service.window == "W01"


async def test_enter_with_no_user_puts_the_cursor_there_and_says_why(
    backend: Backend, tmp_path: Path
) -> None:
    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("tab", *"demo1234", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.focused is app.screen.query_one("#user", Input)
        assert "Type your user name" in error_text(app)

        # the same from the user field itself: it stays there, with the reason
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.focused is app.screen.query_one("#user", Input)
        assert "Type your user name" in error_text(app)

        # and an empty password is asked for in turn, then Enter logs in
        await pilot.press(*"clerk01", "enter")
        await pilot.press(*("backspace" for _ in "demo1234"), "enter")
        await settle(app, pilot)
        assert app.focused is app.screen.query_one("#password", Input)
        assert "Type your password" in error_text(app)
        await pilot.press(*"demo1234", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen), app.screen


async def test_the_user_field_is_empty_first_then_holds_the_last_user(
    backend: Backend, tmp_path: Path
) -> None:
    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        user = app.screen.query_one("#user", Input)
        # a hint, not something that reads like an account already typed in
        assert user.value == ""
        assert str(user.placeholder) == t("login.user_placeholder")
        assert str(user.placeholder) not in {name for name, _role, _window in ACCOUNTS}
        await pilot.press(*"clerk02", "enter", *"demo1234", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)

    again = make_app(backend, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        assert again.screen.query_one("#user", Input).value == "clerk02"
        assert again.screen.query_one("#window", Input).value == "W02"
        assert again.focused is again.screen.query_one("#password", Input)
        await pilot.press(*"demo1234", "enter")
        await settle(again, pilot)
        assert isinstance(again.screen, MainScreen)


def keyring_app(backend: Backend, tmp_path: Path) -> WorkbenchApp:
    settings = WorkbenchSettings(
        server_url=backend.base_url,
        outbox_path=tmp_path / "outbox.sqlite3",
        idle_lock_minutes=0,
        language="en",
    )
    service = DeskService(settings, credentials=CredentialStore(FileKeyring()))
    return WorkbenchApp(settings, service=service, demo_accounts=ACCOUNTS)


async def test_a_kept_session_is_offered_and_resumed_with_f2(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.json"))
    first = keyring_app(backend, tmp_path)
    async with first.run_test(size=SIZE) as pilot:
        await settle(first, pilot)
        offer = first.screen.query_one("#resume-offer", Static)
        assert not offer.display  # nothing kept yet
        await pilot.press(*"clerk03", "enter", *"demo1234", "enter")
        await settle(first, pilot)
        assert isinstance(first.screen, MainScreen)

    second = keyring_app(backend, tmp_path)
    async with second.run_test(size=SIZE) as pilot:
        await settle(second, pilot)
        offer = second.screen.query_one("#resume-offer", Static)
        assert offer.display
        assert "clerk03" in str(offer.render())
        await pilot.press("f2")
        await settle(second, pilot)
        assert isinstance(second.screen, MainScreen), second.screen
        assert second.service.window == "W03"


class DemoInTerminal:
    """`workbench demo` in a pseudo-terminal of its own, its temp files in `scratch`."""

    def __init__(self, tmp_path: Path) -> None:
        self.scratch = tmp_path / "tmp"
        self.scratch.mkdir()
        env = {**os.environ, "TMPDIR": str(self.scratch), "TERM": "xterm-256color"}
        self.main, child = pty.openpty()
        code = "from workbench.cli import main; raise SystemExit(main(['demo', '--clerks', '0']))"
        # A session of its own without the terminal as its controlling one: nothing sends it
        # SIGHUP when the terminal goes, as under `make demo`, where make gets the signal.
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=child,
            stdout=child,
            stderr=child,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,
        )
        os.close(child)

    def wait_for_login(self) -> None:
        screen = b""
        deadline = time.monotonic() + 60
        while b"Log in" not in screen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.main], [], [], 0.5)
            if ready:
                try:
                    screen += os.read(self.main, 65536)
                except OSError:
                    break
        assert b"Log in" in screen, screen[-2000:]
        assert [p.name for p in self.scratch.iterdir()], "the demo keeps its hall in a temp dir"

    def wait_for_exit(self, *, drain: bool) -> int | None:
        deadline = time.monotonic() + 30
        while self.process.poll() is None and time.monotonic() < deadline:
            if not drain:
                time.sleep(0.2)
                continue
            ready, _, _ = select.select([self.main], [], [], 0.2)
            if ready:  # keep draining, as a terminal would
                try:
                    os.read(self.main, 65536)
                except OSError:
                    time.sleep(0.1)
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.main >= 0:
            os.close(self.main)


def test_workbench_demo_ends_cleanly_when_its_terminal_hangs_up(tmp_path: Path) -> None:
    demo = DemoInTerminal(tmp_path)
    try:
        demo.wait_for_login()
        demo.process.send_signal(signal.SIGHUP)
        assert demo.wait_for_exit(drain=True) == 128 + signal.SIGHUP
        assert list(demo.scratch.iterdir()) == []  # embedded backend stopped, its files removed
    finally:
        demo.close()


def test_workbench_demo_ends_cleanly_when_its_terminal_closes_without_a_signal(
    tmp_path: Path,
) -> None:
    demo = DemoInTerminal(tmp_path)
    try:
        demo.wait_for_login()
        os.close(demo.main)  # the tmux session is killed: the terminal's far end goes away
        demo.main = -1
        assert demo.wait_for_exit(drain=False) == 128 + signal.SIGHUP
        assert list(demo.scratch.iterdir()) == []
    finally:
        demo.close()
