"""Provides `AlertsTable`: the board's alerts feed, the newest first (emergencies in bold), and
`describe`, an alert in words."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text

from screens.board.table import BoardTable
from workbench.board_state import Alert, BoardState
from workbench.i18n import t

__all__ = ["ALERTS_SHOWN", "AlertsTable", "describe"]

ALERTS_SHOWN = 60
SERIOUS = ("alarm", "wait_critical", "bad_rating")
"""The kinds of alert shown in the error colour (the others in the warning colour)."""


def describe(alert: Alert) -> str:
    """What the alert is about, in the language shown."""
    return t(f"board.alert.{alert.kind}", subject=alert.subject, **alert.detail)


class AlertsTable(BoardTable):
    """The newest alerts (the first `ALERTS_SHOWN`), keyed by the alert's key."""

    NAME = "alerts"
    COLUMNS: ClassVar[tuple[str, ...]] = ("time", "kind", "what")

    def paint(self, state: BoardState) -> None:
        rows = []
        for alert in list(state.alerts)[:ALERTS_SHOWN]:
            colour = "error" if alert.kind in SERIOUS else "warning"
            style = f"bold {self.colour(colour)}" if alert.emergency else self.colour(colour)
            local = alert.at.astimezone(state.timezone)
            rows.append(
                (
                    alert.key,
                    (
                        local.strftime("%H:%M:%S"),
                        Text(t(f"board.kind.{alert.kind}"), style=style),
                        Text(describe(alert), style=style if alert.emergency else ""),
                    ),
                )
            )
        self.sync(rows, ordered=True)
