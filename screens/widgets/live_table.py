"""Provides `LiveTable`: a `DataTable` whose cell updates re-render only the rows they touch.

`DataTable` keys all its render caches (cells, rows, lines) on one update counter that every
`update_cell` bumps, so changing one cell re-renders every visible cell of the table through
Rich; on the supervisor board, fed hundreds of events a second, that was most of the UI's CPU
and its longest frames. `update_rows` writes the new values, drops the cached renders of those
rows only and refreshes just their lines; a value wider than its column falls back to
`update_cell(update_width=True)` (the column grows, everything is re-rendered, as before).

It reaches into `DataTable`'s private caches (Textual 8.2); `tests/ui/test_board.py` checks
the rendered screen after updates, so a Textual that changes them fails there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

__all__ = ["LiveTable"]


def _width(value: object) -> int:
    if isinstance(value, Text):
        return value.cell_len
    return cell_len(str(value))


def _keys(cache: LRUCache[Any, Any]) -> list[Any]:
    return list(cache.keys())


class LiveTable(DataTable[Any]):
    """A `DataTable` with `update_rows`: in-place updates that re-render only changed rows."""

    def update_rows(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """Set `changes[row][column] = value` for existing rows and columns."""
        cells: set[tuple[RowKey, ColumnKey]] = set()
        for row, values in changes.items():
            row_key = RowKey(row)
            data = self._data[row_key]
            for column, value in values.items():
                column_key = ColumnKey(column)
                if _width(value) > self.columns[column_key].content_width:
                    self.update_cell(row_key, column_key, value, update_width=True)
                else:
                    data[column_key] = value
                    cells.add((row_key, column_key))
        if cells:
            self._forget(cells)

    def _forget(self, cells: set[tuple[RowKey, ColumnKey]]) -> None:
        rows = {row for row, _ in cells}
        indices = {self._row_locations.get(row) for row in rows}
        for key in _keys(self._cell_render_cache):
            if (key[0], key[1]) in cells:
                self._cell_render_cache.discard(key)
        for key in _keys(self._row_render_cache):
            if key[0] in rows:
                self._row_render_cache.discard(key)
        for key in _keys(self._row_renderable_cache):
            if key[1] in indices:
                self._row_renderable_cache.discard(key)
        self._line_cache.clear()  # lines are rebuilt from the cached rows: cheap
        left, width = self.scroll_offset.x, self.scrollable_content_region.width
        for index in indices:
            if index is not None:
                # only the row's visible width: a region over the scrollbar repaints it too
                row = self._get_row_region(index)
                self._refresh_region(row.intersection(row._replace(x=left, width=width)))
