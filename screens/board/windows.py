"""Provides `WindowsTable`: the board's windows, each with its clerk, what it is doing, the
ticket at it and for how long, what it served today and how long it stood idle."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text

from screens.board.table import BoardTable, minutes
from workbench.board_state import BoardState
from workbench.i18n import language, t

__all__ = ["WindowsTable"]

ACTIVITY_COLOURS = {"paused": "warning", "closed": "text-muted", "serving": "success"}


class WindowsTable(BoardTable):
    """The hall's windows, in their numbers' order."""

    NAME = "windows"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "window",
        "clerk",
        "state",
        "ticket",
        "for",
        "served",
        "idle",
    )

    def __init__(self) -> None:
        super().__init__(zebra_stripes=True)

    def paint(self, state: BoardState, now: datetime) -> None:
        zh = language() == "zh"
        rows = []
        for w in sorted(state.windows.values(), key=lambda w: w.number):
            activity = w.activity
            label = t(f"board.activity.{activity}")
            if activity == "paused":
                label = t("board.activity.paused_reason", reason=w.pause_reason or "-")
            colour = ACTIVITY_COLOURS.get(activity, "")
            since = w.ticket.called_at if w.ticket is not None else None
            rows.append(
                (
                    w.code,
                    (
                        f"{w.code} {w.name if zh else w.name_en}"[:24],
                        w.clerk or "-",
                        Text(label, style=self.colour(colour)),
                        w.ticket.number if w.ticket else "-",
                        minutes((now - since).total_seconds()) if since else "-",
                        w.served_today,
                        int(w.idle_total(now) // 60),
                    ),
                )
            )
        self.sync(rows)
