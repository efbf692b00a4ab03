"""Provides the board's lines of text: `QuietStatic` and `QuietLabel`, which repaint only when
their text changed, and the three lines over the tables (`StatusLine`, `OutageLine`,
`AlarmBanner`)."""

from __future__ import annotations

import time
from datetime import datetime

from textual.widgets import Label, Static

from screens.board.alerts import describe
from workbench.board_service import BoardService
from workbench.board_state import BoardState
from workbench.i18n import t

__all__ = ["AlarmBanner", "OutageLine", "QuietLabel", "QuietStatic", "StatusLine"]


def _show(widget: Static, before: str | None, text: str) -> str:
    """Show `text` unless `widget` shows it already; re-lay the screen out only when its number
    of lines changed (a layout refreshes every table's scrollbars: costly)."""
    if before != text:
        layout = before is None or before.count("\n") != text.count("\n")
        widget.update(text, layout=layout)
    return text


class QuietStatic(Static):
    """A Static that repaints only when its text changed."""

    _shown_text: str | None = None

    def show(self, text: str) -> None:
        self._shown_text = _show(self, self._shown_text, text)


class QuietLabel(Label):
    """A Label that repaints only when its text changed (a Label: it is styled as one)."""

    _shown_text: str | None = None

    def show(self, text: str) -> None:
        self._shown_text = _show(self, self._shown_text, text)


class StatusLine(QuietStatic):
    """The hall, its time, the connection and the newest event's seq."""

    def paint(self, state: BoardState, board: BoardService, now: datetime) -> None:
        connection = t(f"connection.{board.connection.value}")
        self.show(
            t(
                "board.status",
                hall=state.hall,
                time=now.astimezone(state.timezone).strftime("%H:%M:%S"),
                connection=connection,
                seq=state.seq,
            )
        )


class OutageLine(QuietStatic):
    """Shown while the board is cut off from the hall (and after, for how long it was)."""

    def paint(self, board: BoardService) -> None:
        if board.outage is not None:
            seconds = int(time.monotonic() - board.outage.started)
            self.show(t("board.offline_now", seconds=seconds))
        elif board.last_outage is not None and board.last_outage.seconds is not None:
            seconds = int(board.last_outage.seconds + 0.5)
            self.show(t("board.offline_was", seconds=seconds))
        self.set_class(board.outage is not None or board.last_outage is not None, "-shown")


class AlarmBanner(QuietStatic):
    """Shown while emergency alarms wait for a supervisor: how many, and the newest; it blinks."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._flash_on = False

    def paint(self, state: BoardState) -> None:
        alarms = [a for a in state.alerts if a.emergency]
        self.set_class(bool(alarms), "-shown")
        if alarms:
            self.show(t("board.alarm_banner", count=len(alarms), what=describe(alarms[0])))

    def flash(self, blinking: bool) -> None:
        """Turn the flash over (`blinking`), or keep it lit (a still picture), while shown."""
        blink = not self._flash_on if blinking else True
        self._flash_on = blink and self.has_class("-shown")
        self.set_class(self._flash_on, "-flash")
