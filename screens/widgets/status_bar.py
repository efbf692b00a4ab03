"""Provides `StatusBar`: user, window, connection, outbox and conflict counts, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from screens.stylesheets import beside
from workbench.hall_time import hall_clock
from workbench.i18n import t

__all__ = ["StatusBar"]

CONNECTION_STYLE = {
    "connected": "$success",
    "connecting": "$warning",
    "reconnecting": "$warning",
    "offline": "bold $error",
    "closed": "$error",
}


class StatusBar(Static):
    """One line at the bottom of the main screen; fields are reactive."""

    DEFAULT_CSS = beside(__file__)

    user: reactive[str] = reactive("")
    window: reactive[str] = reactive("")
    connection: reactive[str] = reactive("connecting")
    outbox: reactive[int] = reactive(0)
    conflicts: reactive[int] = reactive(0)
    paused: reactive[bool] = reactive(False)
    clock: reactive[str] = reactive("")

    def __init__(self, now: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self.clock = hall_clock().time(self.now(), seconds=True)

    def render(self) -> Content:
        sep = Content.styled("  │  ", "dim")
        window = self.window or "-"
        if self.paused:
            window += " " + t("status.paused")
        parts = [
            Content.assemble(t("status.user"), " ", (self.user, "bold")),
            Content.assemble(t("status.window"), " ", (window, "bold")),
            Content.assemble(
                t("status.connection"),
                " ",
                (
                    t(f"connection.{self.connection}"),
                    CONNECTION_STYLE.get(self.connection, ""),
                ),
            ),
            Content.assemble(
                t("status.outbox"), " ", (str(self.outbox), "bold $warning" if self.outbox else "")
            ),
            Content.assemble(
                t("status.conflicts"),
                " ",
                (str(self.conflicts), "bold $error" if self.conflicts else ""),
            ),
            Content.styled(self.clock, "bold"),
        ]
        return sep.join(parts)
