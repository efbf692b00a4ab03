"""Provides `DisplayApp`: the hall's call display, a small Textual app of its own.

It logs in with a display account (the terminal account, a supervisor or an admin), shows the
snapshot and follows the display's event stream: each call or recall is announced once (the
stream yields every event exactly once, resuming after a drop), and the snapshot is fetched
again at most a few times a second however many events arrive.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from api_client.errors import ApiError, Forbidden, InvalidCredentials, Unauthenticated, Unavailable
from api_client.event_stream import ConnectionState
from api_client.models import DisplayBoard, DisplayWindow, Event
from screens.display import DisplayScreen
from themes import APP_VARIABLES, DEFAULT_THEME, THEMES
from workbench import i18n
from workbench.announcer import Announcer, spell
from workbench.display_feed import ANNOUNCED, RECALLED, DisplayFeed
from workbench.i18n import t

__all__ = ["DisplayApp"]

REPAINT_SECONDS = 0.25
RETRY_SECONDS = 3.0


class DisplayApp(App[None]):
    """The call display: no input needed once it runs."""

    TITLE = "Hall call display"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "toggle_language", "key.language", tooltip="tip.language", id="language"),
    ]

    def __init__(
        self,
        feed: DisplayFeed,
        *,
        username: str,
        password: str,
        language: str = "zh",
        announcer: Announcer | None = None,
    ) -> None:
        super().__init__()
        self.feed = feed
        self.username = username
        self._password = password
        self.announcer = announcer
        self.windows: dict[str, DisplayWindow] = {}
        self.board: DisplayBoard | None = None
        self._screen = DisplayScreen()
        self._dirty = False
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        i18n.set_language(language)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(APP_VARIABLES)

    @property
    def display_screen(self) -> DisplayScreen:
        return self._screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)
        self.set_interval(REPAINT_SECONDS, self._repaint)
        self.follow()

    async def on_unmount(self) -> None:
        await self.feed.aclose()
        if self.announcer is not None:
            self.announcer.close(timeout=1.0)

    async def action_toggle_language(self) -> None:
        i18n.set_language("zh" if i18n.language() == "en" else "en")
        await self.display_screen.recompose()
        if self.board is not None:
            self._show(self.board)

    # -- the feed ------------------------------------------------------------------------

    @work(exclusive=True, group="display-feed", exit_on_error=False)
    async def follow(self) -> None:
        """Log in, show the snapshot, then follow the stream; log in again if the token dies."""
        screen = self.display_screen
        while True:
            screen.status = t("display.connecting", server=self.feed.client.base_url)
            try:
                await self.feed.login(self.username, self._password)
                board = await self.feed.board()
            except Unavailable:
                screen.offline = True
                screen.status = t("display.unreachable", server=self.feed.client.base_url)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            except ApiError as error:
                screen.offline = True
                screen.status = _refusal(error)
                return
            self._show(board)
            try:
                async for event in self.feed.follow(board.seq, on_state=self._connection):
                    if event.type in ANNOUNCED:
                        self._announce(event)
                    self._dirty = True
            except Unauthenticated:
                continue
            except ApiError as error:
                screen.offline = True
                screen.status = _refusal(error)
                return

    def _show(self, board: DisplayBoard) -> None:
        self.windows = {window.code: window for window in board.windows}
        self.board = board
        self.display_screen.board = board

    def _connection(self, state: ConnectionState) -> None:
        if state is ConnectionState.CLOSED:
            return
        screen = self.display_screen
        offline = state in (ConnectionState.RECONNECTING, ConnectionState.OFFLINE)
        screen.offline = offline
        screen.status = t("display.offline") if offline else ""
        if state is ConnectionState.CONNECTED:
            self._dirty = True  # catch up on the counts after a drop

    def _announce(self, event: Event) -> None:
        number = event.payload.get("number")
        code = event.payload.get("window")
        if not isinstance(number, str) or not isinstance(code, str):
            return
        window = self.windows.get(code)
        key = "display.say_recall" if event.type == RECALLED else "display.say"
        text = t(key, ticket=spell(number), window=window.number if window else code)
        if self.announcer is not None:
            self.announcer.say(text, i18n.language())

    def _repaint(self) -> None:
        if self._dirty:
            self._dirty = False
            self.refresh_board()

    @work(exclusive=True, group="display-refresh", exit_on_error=False)
    async def refresh_board(self) -> None:
        self._show(await self.feed.board())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "display-refresh":
            # the stream reports the connection; its next CONNECTED fetches again
            self.display_screen.status = t("display.offline")


def _refusal(error: ApiError) -> str:
    if isinstance(error, InvalidCredentials):
        return t("display.error.credentials")
    if isinstance(error, Forbidden):
        return t("display.error.forbidden")
    return t("display.error.other", message=str(error))
