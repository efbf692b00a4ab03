"""Provides `QueuesTable`: the board's queues, one per service item, with how many wait and for
how long (in the warning or critical colours past the item's limits), and the day's counts."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text

from screens.board.table import BoardTable, minutes
from workbench.board_state import BoardState
from workbench.i18n import language

__all__ = ["QueuesTable"]


class QueuesTable(BoardTable):
    """The hall's queues, in their service items' order."""

    NAME = "queues"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "item",
        "waiting",
        "longest",
        "average",
        "served",
        "no_shows",
        "limits",
    )

    def __init__(self) -> None:
        super().__init__(zebra_stripes=True)

    def paint(self, state: BoardState, now: datetime) -> None:
        zh = language() == "zh"
        rows = []
        for q in sorted(state.queues.values(), key=lambda q: q.service_item):
            level = q.level(now)
            style = {
                "warning": f"bold {self.colour('warning')}",
                "critical": f"bold reverse {self.colour('error')}",
            }.get(level, "")
            name = f"{q.service_item} {q.name if zh else q.name_en}"[:22]
            rows.append(
                (
                    q.service_item,
                    (
                        Text(name, style=style),
                        Text(str(len(q.waiting)), style=style),
                        Text(minutes(q.longest_wait(now)), style=style),
                        minutes(q.average_wait(now)),
                        q.served_today,
                        q.no_shows_today,
                        f"{q.warning_minutes}/{q.critical_minutes}",
                    ),
                )
            )
        self.sync(rows)
