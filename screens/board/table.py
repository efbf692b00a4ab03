"""Provides `BoardTable`: a table of the board, set up from its columns and kept current by keyed
in-place updates (`sync`), and `minutes`, the board's way of writing a duration.

Each table of the board (windows, queues, cases, alerts) derives from it and paints its rows
from the board's state; the board repaints only the tables whose section changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from screens.widgets.live_table import LiveTable
from workbench.i18n import t

__all__ = ["BoardTable", "minutes"]


def minutes(seconds: float) -> str:
    """`seconds` as minutes:seconds (never negative)."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class BoardTable(LiveTable):
    """One table of the board: its rows by key, re-rendered only where they changed."""

    NAME: ClassVar[str] = ""
    """The section it shows (`board.<NAME>.*` in the catalogue, `#board-<NAME>` in the DOM)."""
    COLUMNS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, zebra_stripes: bool = False) -> None:
        super().__init__(id=f"board-{self.NAME}", cursor_type="row", zebra_stripes=zebra_stripes)
        self._row_cells: dict[str, tuple[Any, ...]] = {}
        """The cells of each row as last shown (by row key), to find what changed."""

    def set_up(self) -> None:
        """Title it and add its columns (once) in the language shown."""
        self.border_title = t(f"board.{self.NAME}.title")
        if not self.columns:
            for column in self.COLUMNS:
                self.add_column(t(f"board.{self.NAME}.{column}"), key=column)

    def colour(self, name: str) -> str:
        """The theme's colour `name` (empty when the theme has none)."""
        return self.app.theme_variables.get(name, "")

    def selected_key(self) -> str | None:
        """The key of the row under the cursor (None when there is none)."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

    def sync(self, rows: Sequence[tuple[str, tuple[Any, ...]]], *, ordered: bool = False) -> None:
        """Keyed in-place update: only changed rows are re-rendered; rows come and go by key
        (`ordered`: the order of the rows matters, so a new order rebuilds the table)."""
        cache = self._row_cells
        keys = [key for key, _ in rows]
        if ordered and keys != list(cache):
            self.clear()
            cache.clear()
        wanted = set(keys)
        for gone in [key for key in cache if key not in wanted]:
            self.remove_row(gone)
            del cache[gone]
        changes: dict[str, dict[str, Any]] = {}
        for key, cells in rows:
            old = cache.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            elif old != cells:
                changes[key] = {
                    column: after
                    for column, before, after in zip(self.COLUMNS, old, cells, strict=True)
                    if before != after
                }
            cache[key] = cells
        if changes:
            self.update_rows(changes)
