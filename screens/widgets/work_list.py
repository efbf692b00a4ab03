"""Provides `WorkListTable`: the live work list, keyed by row, updated cell by cell.

`sync(rows)` diffs the wanted rows against what is shown: new rows are added, gone rows
removed, changed cells updated in place, all inside `app.batch_update()`; the order is restored
with `sort` only when it changed, and the cursor stays on the row it was on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from workbench.i18n import language, t
from workbench.services import DeskService
from workbench.worklist import WorkRow

__all__ = ["COLUMNS", "WorkListTable"]

COLUMNS = ("number", "channel", "item", "priority", "status", "waited", "clock")
WIDTHS = {
    "number": 21,
    "channel": 9,
    "item": 30,
    "priority": 8,
    "status": 11,
    "waited": 8,
    "clock": 9,
}
CLOCK_VARIABLE = {
    "on_track": "clock-on-track",
    "due_soon": "clock-due-soon",
    "overdue": "clock-overdue",
    "paused": "clock-paused",
}


class KeyedText(Text):
    """A cell that remembers its row key (used to restore the list's order)."""

    row_key: str = ""


def waited(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return t("time.minutes", n=minutes)
    return t("time.hours", h=minutes // 60, m=minutes % 60)


class WorkListTable(DataTable[Text]):
    """This window's waiting tickets and online cases in one list."""

    class Chosen(Message):
        """The clerk pressed Enter on a row."""

        def __init__(self, row: WorkRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, service: DeskService, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.service = service
        self.shown: dict[str, WorkRow] = {}
        self.cells: dict[str, tuple[str, ...]] = {}
        self.order: list[str] = []
        self.minute = 0

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(t(f"list.{column}"), key=column, width=WIDTHS[column])

    def translate(self) -> None:
        for column in COLUMNS:
            self.columns[column].label = Text(t(f"list.{column}"))  # type: ignore[index]
        self.cells.clear()
        self.sync(list(self.shown.values()), force=True)

    @property
    def selected(self) -> WorkRow | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return self.shown.get(str(row_key.value))

    def _item_name(self, code: str) -> str:
        item = self.service.service_items.get(code)
        if item is None:
            return code
        return item.name if language() == "zh" else item.name_en

    def _clock(self, row: WorkRow) -> Text:
        if row.clock is None:
            return Text("")
        variable = CLOCK_VARIABLE.get(row.clock)
        colour = self.app.theme_variables.get(variable or "", "") if variable else ""
        return Text(t(f"clock.{row.clock}"), style=f"bold {colour}".strip())

    def _texts(self, row: WorkRow, now: datetime) -> tuple[str, ...]:
        priority = t(f"priority.{row.priority}") if row.priority else ""
        status = t(f"status.{row.kind}.{row.status}")
        return (
            row.number,
            t(f"channel.{row.channel}"),
            self._item_name(row.service_item),
            priority,
            status,
            waited(row.since, now),
            row.clock or "",
        )

    def _cell(self, row: WorkRow, column: int, text: str) -> Text:
        cell = self._styled(row, column, text)
        cell.truncate(WIDTHS[COLUMNS[column]], overflow="ellipsis")
        return cell

    def _styled(self, row: WorkRow, column: int, text: str) -> Text:
        if column == 0:
            cell = KeyedText(text, style="bold")
            cell.row_key = row.key
            return cell
        if column == 6:
            return self._clock(row)
        if column == 3 and text:
            colour = self.app.theme_variables.get("priority", "")
            return Text(text, style=f"bold {colour}".strip())
        return Text(text)

    def sync(self, rows: Sequence[WorkRow], *, force: bool = False) -> None:
        """Show exactly `rows`, in this order, touching only what changed."""
        now = self.service.clock()
        wanted = {row.key: row for row in rows}
        selected = self.selected
        selected_key = selected.key if selected is not None else None
        scroll_y = self.scroll_y
        membership_changed = False
        with self.app.batch_update():
            for key in [k for k in self.shown if k not in wanted]:
                self.remove_row(key)
                del self.shown[key]
                self.cells.pop(key, None)
                membership_changed = True
            minute = int(now.timestamp() // 60)
            times_changed = force or minute != self.minute
            self.minute = minute
            for row in rows:
                if not times_changed and self.shown.get(row.key) == row:
                    continue
                texts = self._texts(row, now)
                old = self.cells.get(row.key)
                if old is None or row.key not in self.shown:
                    cells = [self._cell(row, i, text) for i, text in enumerate(texts)]
                    self.add_row(*cells, key=row.key)
                    membership_changed = True
                else:
                    for index, (before, after) in enumerate(zip(old, texts, strict=True)):
                        if before != after or force:
                            self.update_cell(row.key, COLUMNS[index], self._cell(row, index, after))
                self.shown[row.key] = row
                self.cells[row.key] = texts
            order = [row.key for row in rows]
            if membership_changed or order != self.order:
                positions = {key: index for index, key in enumerate(order)}
                self.sort("number", key=lambda cell: positions.get(cell.row_key, 0))
                self.order = order
                if selected_key is not None and selected_key in self.shown:
                    self.move_cursor(row=self.get_row_index(selected_key), scroll=False)
                self.scroll_y = scroll_y

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.shown.get(str(event.row_key.value))
        if row is not None:
            self.post_message(self.Chosen(row))
