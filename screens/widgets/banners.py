"""Provides the banners above and below the main work area: offline, and the undo window."""

from __future__ import annotations

import time

from textual.reactive import reactive
from textual.widgets import Static

from screens.stylesheets import beside
from workbench.i18n import t
from workbench.services import DeskService

__all__ = ["OfflineBanner", "UndoBar"]


class OfflineBanner(Static):
    """Shown while the server cannot be reached: work continues, changes wait in the outbox."""

    DEFAULT_CSS = beside(__file__, "offline_banner")

    offline: reactive[bool] = reactive(False)
    pending: reactive[int] = reactive(0)

    def watch_offline(self, offline: bool) -> None:
        self.set_class(offline, "-offline")

    def render(self) -> str:
        return t("banner.offline", pending=self.pending)


class UndoBar(Static):
    """ "sending in 5 s — u to undo" while a decision is held in the outbox."""

    DEFAULT_CSS = beside(__file__, "undo_bar")

    def __init__(self, service: DeskService, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service

    def on_mount(self) -> None:
        self.set_interval(0.25, self._tick)
        self._tick()

    def _tick(self) -> None:
        left = self.service.held_seconds_left(time.time())
        self.set_class(left > 0, "-held")
        if left > 0:
            self.refresh()

    def render(self) -> str:
        left = self.service.held_seconds_left(time.time())
        what = t(f"decision.{self.service.last_held_kind}")
        return t("undo.held", what=what, seconds=int(left + 0.999))
