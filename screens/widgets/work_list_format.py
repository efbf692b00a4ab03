"""Provides the work list's columns and how a row is written: the columns' widths (`column_widths`),
each cell's text and colour (`row_cells`, `shown_number`, `waited`), text fitted to a column
(`fit`), and the order the waiting tickets are shown in (`arrival_order`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.style import Style

from workbench.i18n import t
from workbench.worklist import WorkRow

__all__ = [
    "CLOCK_VARIABLE",
    "COLUMNS",
    "GAP",
    "WIDTHS",
    "arrival_order",
    "column_widths",
    "fit",
    "row_cells",
    "shown_number",
    "waited",
]

COLUMNS = ("number", "channel", "item", "priority", "status", "waited", "clock")
WIDTHS = {
    "number": 7,  # the least; sized to the widest number shown ("GB0012", "…000012")
    "channel": 9,
    "item": 26,  # the least: the service item takes whatever width the others leave
    "priority": 9,
    "status": 12,  # "under review"
    "waited": 10,  # "1 h 20 min"
    "clock": 10,  # "Time limit", "due soon"
}
GAP = 1
"""Blank cells before each column."""

CLOCK_VARIABLE = {
    "on_track": "clock-on-track",
    "due_soon": "clock-due-soon",
    "overdue": "clock-overdue",
    "paused": "clock-paused",
}
"""The theme's colour of each state of a case's time limit."""


def column_widths(width: int, number: int = WIDTHS["number"]) -> dict[str, int]:
    """Each column's cells for a list `width` cells wide whose widest number is `number` cells:
    the service item takes the rest."""
    widths = {**WIDTHS, "number": max(WIDTHS["number"], number)}
    fixed = sum(w for c, w in widths.items() if c != "item") + GAP * (len(COLUMNS) + 1)
    widths["item"] = max(WIDTHS["item"], width - fixed)
    return widths


def shown_number(row: WorkRow) -> str:
    """The number as the list shows it: a ticket's whole, a case's last segment (its id, unique
    in the hall: DL-ZS-20260302-000012 → …000012) after an ellipsis that marks it as a case's;
    the case screen shows the whole number."""
    if row.kind != "case":
        return row.number
    return "…" + row.number.rpartition("-")[2]


def waited(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return t("time.minutes", n=minutes)
    return t("time.hours", h=minutes // 60, m=minutes % 60)


def row_cells(
    row: WorkRow, now: datetime, item_name: str, colour: Callable[[str], Style]
) -> list[tuple[str, Style | None]]:
    """The text and style of each column's cell of `row` (`item_name`: its service item's name;
    `colour(variable)`: the theme's colour as a bold style)."""
    priority = t(f"priority.{row.priority}") if row.priority else ""
    return [
        (shown_number(row), Style(bold=True)),
        (t(f"channel.{row.channel}"), None),
        (item_name, None),
        (priority, colour("priority") if priority else None),
        (t(f"status.{row.kind}.{row.status}"), None),
        (waited(row.since, now), None),
        (
            t(f"clock.{row.clock}") if row.clock else "",
            colour(CLOCK_VARIABLE[row.clock]) if row.clock in CLOCK_VARIABLE else None,
        ),
    ]


def fit(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `width` cells; wide characters count
    two, so Chinese lines up."""
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


def arrival_order(rows: Sequence[WorkRow]) -> list[WorkRow]:
    """`rows` with the waiting tickets in the order they arrived, every other row in place.

    The list cannot show the order F5 will call them in: the server calls a priority ticket
    only after the window has called its share of normal ones (the hall's interleave, and how
    many this window called since its last priority ticket, are not sent to the desk). Priority
    tickets sorted to the top looked as if they were next while F5 rightly called normal ones,
    so the list shows who came first and marks the priority class in its own column."""
    waiting = sorted(
        (row for row in rows if _waiting(row)),
        key=lambda row: (row.since.timestamp() if row.since else 0.0, row.id),
    )
    queue = iter(waiting)
    return [next(queue) if _waiting(row) else row for row in rows]


def _waiting(row: WorkRow) -> bool:
    return row.kind == "ticket" and row.status == "waiting"
