"""Provides `CasesTable`: the board's open cases by their deadlines (the nearest first), with
whose they are and how their promised time limit stands."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text

from screens.board.table import BoardTable
from workbench.board_state import BoardState
from workbench.i18n import language, t

__all__ = ["CasesTable"]


class CasesTable(BoardTable):
    """The hall's cases on the clock, the nearest deadline first."""

    NAME = "cases"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "case",
        "department",
        "item",
        "assignee",
        "deadline",
        "clock",
    )

    def paint(self, state: BoardState, now: datetime) -> None:
        zh = language() == "zh"
        today = state.today(now)
        rows = []
        for c in sorted(state.cases.values(), key=lambda c: (c.deadline, c.id)):
            clock = c.clock(today)
            colour = self.colour("clock-overdue" if clock == "overdue" else "clock-due-soon")
            rows.append(
                (
                    str(c.id),
                    (
                        c.number,
                        c.department_name if zh else c.department_name_en,
                        c.service_item,
                        c.assignee or "-",
                        c.deadline.isoformat(),
                        Text(t(f"board.clock.{clock}"), style=f"bold {colour}"),
                    ),
                )
            )
        self.sync(rows, ordered=True)
