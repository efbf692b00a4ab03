"""Provides `WorkbenchApp`: the Textual app, thin: themes, languages, global keys, idle lock.

Screens live in `screens/`, the hall behind `DeskService`; the app only wires them together.
Start-up shows the login screen first: the client stack (httpx, the wire models, keyring) and
the screens after login are imported when first needed, or in the background once the login
screen is on screen (`warm_up`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen

from screens.base import DeskModal, DeskScreen
from screens.bindings import named_binding
from screens.commands import ScreenCommands
from screens.hangup import EXIT_GRACE_SECONDS, HANGUP_EXIT_CODE, TerminalWatch, exit_within
from screens.host import OpenMain
from screens.login import DemoAccount, LoginScreen
from themes import APP_VARIABLES, DEFAULT_THEME, STYLESHEET, THEMES, theme_names
from workbench import i18n
from workbench.i18n import t
from workbench.startup_settings import FirstPaintSettings, StartupSettings

if TYPE_CHECKING:
    from workbench.services import DeskService
    from workbench.settings import WorkbenchSettings

__all__ = ["WorkbenchApp"]

IDLE_CHECK_SECONDS = 5.0
TERMINAL_CHECK_SECONDS = 1.0
BOARD_ROLES = frozenset({"supervisor", "admin"})
"""Roles that land on the supervisor board (the server refuses it to everyone else)."""


class WorkbenchApp(App[None]):
    """The clerk's workbench."""

    CSS_PATH = str(STYLESHEET)
    TITLE = "Service Workbench"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        named_binding("f1", "help", "help"),
        named_binding("u", "undo", "undo", show=False),
        named_binding("ctrl+o", "outbox", "outbox"),
        named_binding("ctrl+l", "lock", "lock", show=False),
        named_binding("f9", "toggle_language", "language", show=False),
        named_binding("f10", "next_theme", "theme", show=False),
    ]

    def __init__(
        self,
        settings: WorkbenchSettings | StartupSettings,
        *,
        service: DeskService | None = None,
        demo_accounts: Sequence[DemoAccount] = (),
        demo_password: str | None = None,
    ) -> None:
        _freeze_startup_objects()
        super().__init__()
        self.startup: FirstPaintSettings = settings
        """What the first paint reads; the validated settings once they are known."""
        self._pending = settings if isinstance(settings, StartupSettings) else None
        self._settings = None if isinstance(settings, StartupSettings) else settings
        self._service = service
        self._service_lock = threading.Lock()
        self._warm: asyncio.Future[None] | None = None
        self._hangup_loop: asyncio.AbstractEventLoop | None = None
        self._exit_watchdog: threading.Timer | None = None
        self.hangup_cleanups: list[Callable[[], object]] = []
        """Run before the process is ended because its exit after a hang-up did not complete
        (`workbench demo` removes its temporary files)."""
        self.demo_accounts = list(demo_accounts)
        self.demo_password = demo_password
        self.last_input = time.monotonic()
        for theme in THEMES:
            self.register_theme(theme)
        self._theme_warning: str | None = None
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        else:
            self.theme = DEFAULT_THEME
            self._theme_warning = settings.theme
        i18n.set_language(settings.language)
        self._unlisten = i18n.add_listener(self._language_changed)

    @property
    def settings(self) -> WorkbenchSettings:
        """Every setting, validated (on first use when the app was started with
        `StartupSettings`; `SettingsError` if one is invalid)."""
        with self._service_lock:
            return self._validated_settings()

    def _validated_settings(self) -> WorkbenchSettings:
        if self._settings is None:
            assert self._pending is not None
            from workbench.settings import load_settings

            self._settings = load_settings(**self._pending.overrides)
            self.startup = self._settings
        return self._settings

    @property
    def service(self) -> DeskService:
        """The desk, made on first use: importing it loads the whole client stack."""
        with self._service_lock:
            if self._service is None:
                from workbench.services import DeskService

                self._service = DeskService(self._validated_settings())
            return self._service

    def warm_up(self) -> asyncio.Future[None]:
        """Load the client stack, the desk (keyring) and the screens after login in a
        background thread, once; the future resolves when they are ready. The login screen
        starts this after its first paint, so neither that paint nor typing waits for it."""
        if self._warm is None:
            loop = asyncio.get_running_loop()
            ready: asyncio.Future[None] = loop.create_future()

            def resolve() -> None:
                if not ready.done():
                    ready.set_result(None)

            def load() -> None:
                from workbench.settings import SettingsError

                try:
                    _ = self.settings
                except SettingsError as error:
                    with contextlib.suppress(RuntimeError):  # the app has ended meanwhile
                        loop.call_soon_threadsafe(self._settings_invalid, str(error))
                    return
                # a failure here shows again, with its message, where the desk is used
                with contextlib.suppress(Exception):
                    _import_after_login()
                    _ = self.service
                with contextlib.suppress(RuntimeError):  # the app has ended meanwhile
                    loop.call_soon_threadsafe(resolve)

            threading.Thread(target=load, name="warm-up", daemon=True).start()
            self._warm = ready
        return self._warm

    def _settings_invalid(self, message: str) -> None:
        """End the app the way `workbench` ends on an invalid setting before it starts:
        exit status 2 and the message naming the field."""
        self.exit(return_code=2, message=f"workbench: {message}")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(APP_VARIABLES)

    def on_mount(self) -> None:
        if self.startup.keymap:
            self.set_keymap(dict(self.startup.keymap))
        self.theme_changed_signal.subscribe(self, lambda _theme: self._retranslate())
        if self._theme_warning:
            self.notify(t("theme.unknown", name=self._theme_warning), severity="warning")
        self.push_screen(
            LoginScreen(
                server_url=self.startup.server_url,
                accounts=self.demo_accounts,
                password_hint=self.demo_password,
            )
        )
        if self.startup.idle_lock_minutes > 0:
            self.set_interval(IDLE_CHECK_SECONDS, self._check_idle)
        self._catch_hangup()

    def _catch_hangup(self) -> None:
        """A closed terminal (the window or the tmux session went away) ends the app the normal
        way, so that `workbench demo` stops its embedded backend and simulator and removes its
        files, instead of being killed or lingering. SIGHUP says so when the app leads its
        terminal's session; under `make demo` make leads it, gets the SIGHUP and waits for its
        child, so the app also looks at its terminal each second (`screens.hangup`): hung up,
        or at end of file while Textual's input thread spins on it."""
        hangup = getattr(signal, "SIGHUP", None)
        if hangup is None or self.is_headless:
            return
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(hangup, self._hung_up)
            self._hangup_loop = loop
        terminal = sys.__stdin__
        if terminal is not None and terminal.isatty():
            watch = TerminalWatch(terminal.fileno())
            self.set_interval(TERMINAL_CHECK_SECONDS, partial(self._check_terminal, watch))

    def _check_terminal(self, watch: TerminalWatch) -> None:
        if watch.gone():
            self._hung_up()

    def _hung_up(self) -> None:
        """End the app; if that cannot complete within a few seconds, end the process."""
        if self._exit_watchdog is None:
            self._exit_watchdog = exit_within(EXIT_GRACE_SECONDS, self.hangup_cleanups)
        self.exit(return_code=HANGUP_EXIT_CODE)

    async def on_unmount(self) -> None:
        self._unlisten()
        if self._hangup_loop is not None:
            self._hangup_loop.remove_signal_handler(signal.SIGHUP)
            self._hangup_loop = None
        if self._service is not None:
            await self._service.close()

    # -- screens -------------------------------------------------------------------------

    @on(OpenMain)
    def _open_main(self, _message: OpenMain) -> None:
        self.open_main()

    def open_main(self) -> None:
        """The screen a role works on: the board for supervisors and admins, else the desk."""
        me = self.service.me
        if me is not None and me.role in BOARD_ROLES:
            from screens.board import BoardScreen

            self.switch_screen(BoardScreen())
        else:
            from screens.main import MainScreen

            self.switch_screen(MainScreen())

    @property
    def logged_in(self) -> bool:
        return self._service is not None and self._service.me is not None

    def action_help(self) -> None:
        from screens.help import HelpScreen

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        bindings = [(a.binding, a.enabled) for a in screen.active_bindings.values()]
        self.push_screen(HelpScreen(bindings, type(screen).__name__.removesuffix("Screen")))

    def action_outbox(self) -> None:
        from screens.conflicts import OutboxScreen

        if self.logged_in and not isinstance(self.screen, OutboxScreen):
            self.push_screen(OutboxScreen())

    def action_undo(self) -> None:
        screen = self.screen
        if isinstance(screen, DeskScreen):
            screen.undo()

    def action_lock(self) -> None:
        from screens.lock import LockScreen

        if self.logged_in and not isinstance(self.screen, LockScreen):
            for screen in self.screen_stack:
                if isinstance(screen, DeskScreen):
                    screen.forget_personal_data()
            self.push_screen(LockScreen())

    def action_toggle_language(self) -> None:
        i18n.set_language("zh" if i18n.language() == "en" else "en")

    def action_next_theme(self) -> None:
        names = theme_names()
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(t("theme.now", name=self.theme))

    def _language_changed(self, _language: str) -> None:
        self._retranslate()

    def _retranslate(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, DeskScreen | DeskModal):
                screen.translate()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for name in theme_names():
            yield SystemCommand(
                t("palette.theme", name=name), t("palette.theme_help"), self._set_theme(name)
            )
        for code, label in i18n.LANGUAGES.items():
            yield SystemCommand(
                t("palette.language", name=label),
                t("palette.language_help"),
                partial(i18n.set_language, code),
            )
        yield SystemCommand(t("key.help"), t("tip.help"), self.action_help)
        if self.logged_in:
            yield SystemCommand(t("key.outbox"), t("tip.outbox"), self.action_outbox)
            yield SystemCommand(t("key.lock"), t("tip.lock"), self.action_lock)
        yield SystemCommand(t("palette.quit"), t("palette.quit_help"), self.exit)

    def _set_theme(self, name: str) -> Callable[[], None]:
        def apply() -> None:
            self.theme = name

        return apply

    # -- idle lock -----------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        idle = time.monotonic() - self.last_input
        minutes = self.startup.idle_lock_minutes
        if minutes > 0 and idle >= minutes * 60:
            self.action_lock()


_frozen = False


def _freeze_startup_objects() -> None:
    """Move everything imported so far out of the garbage collector's sight, once a process:
    modules, classes and their caches live as long as the process, and without this every
    full collection during start-up walks them all again (about 0.1 s of CPU here)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


AFTER_LOGIN_MODULES = (
    "workbench.services",
    "screens.main",
    "screens.case",
    "screens.board",
    "screens.conflicts",
    "screens.help",
    "screens.lock",
)
"""What the first screen after login needs: loaded by `warm_up` while the clerk types."""


def _import_after_login() -> None:
    for name in AFTER_LOGIN_MODULES:
        importlib.import_module(name)
