"""Provides `WorkListTable`: the live work list, a line-API widget that renders only what shows.

The rows live in plain Python (`order`, a list of row keys, and `shown`, the rows by key);
`render_line` formats a row only when it comes into view and caches its line until the row
changes, so a list of thousands of rows under a flood of updates costs a sort and a few dozen
lines per repaint, never a rebuild. `sync(rows)` swaps in the new order, keeps the cursor on the
row it was on (by key) and leaves the scroll position alone, and repaints only the lines whose
rows changed when the order did not. The columns, and how a row's cells are written, are in
`screens.widgets.work_list_format` (its helpers the main screen uses are re-exported here).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from screens.stylesheets import beside
from screens.widgets.work_list_format import (
    COLUMNS,
    GAP,
    WIDTHS,
    arrival_order,
    column_widths,
    fit,
    row_cells,
    shown_number,
    waited,
)
from workbench.i18n import language, t
from workbench.services import DeskService
from workbench.worklist import WorkRow

__all__ = [
    "COLUMNS",
    "WorkListTable",
    "arrival_order",
    "column_widths",
    "freeze_long_lived",
    "shown_number",
    "waited",
]


def freeze_long_lived() -> None:
    """Collect once, then move everything alive out of the cyclic collector's sight.

    Called once the work list is loaded: the catalogue, the list and the libraries' own objects
    live as long as the screen, and a full collection that walked them (every few seconds under
    a flood of updates) stalled the screen for 100-150 ms. New objects are collected as usual;
    the work list thaws everything again when it goes (`on_unmount`), so what was frozen can
    still be collected once it is garbage.
    """
    gc.collect()
    gc.freeze()


def _key(key: str, action: str) -> Binding:
    """A key of the list, named and explained by the catalogue (`builtin.<action>`)."""
    return Binding(
        key,
        action,
        f"builtin.{action}",
        show=False,
        tooltip=f"builtin_tip.{action}",
        id=f"work-list-{action.replace('_', '-')}",
    )


@dataclass
class _Line:
    """A formatted row: the row it shows, the minute its wait times were counted in, and the
    finished lines for each (row style, horizontal scroll, width) it was drawn with."""

    row: WorkRow
    minute: int
    strip: Strip
    views: dict[tuple[str, int, int], Strip] = field(default_factory=dict)


class WorkListTable(ScrollView, can_focus=True):
    """This window's waiting tickets and online cases in one list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _key("enter", "choose"),
        _key("up", "cursor_up"),
        _key("down", "cursor_down"),
        _key("pageup", "page_up"),
        _key("pagedown", "page_down"),
        _key("home", "first"),
        _key("end", "last"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "work-list--header",
        "work-list--cursor",
        "work-list--even-row",
        "work-list--odd-row",
    }

    DEFAULT_CSS = beside(__file__)

    class Chosen(Message):
        """The clerk pressed Enter on a row (or clicked the highlighted one)."""

        def __init__(self, row: WorkRow) -> None:
            super().__init__()
            self.row = row

    class RowHighlighted(Message):
        """The cursor moved to another row (`row` is None when the list is empty)."""

        def __init__(self, row: WorkRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, service: DeskService, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.shown: dict[str, WorkRow] = {}
        self.order: list[str] = []
        self.cursor_row = 0
        self._lines: dict[str, _Line] = {}
        self._widths = dict(WIDTHS)
        self._number_cells = WIDTHS["number"]
        """The widest number of the rows shown (the number column's width)."""

    @property
    def line_width(self) -> int:
        return sum(self._widths.values()) + GAP * (len(COLUMNS) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Give the service item the width the other columns leave (the scroll bar may have
        come or gone, so this is checked whenever the header is drawn)."""
        widths = column_widths(self.scrollable_content_region.width, self._number_cells)
        if widths != self._widths:
            self._widths = widths
            self.virtual_size = Size(self.line_width, len(self.order) + 1)
            self.translate()

    # -- what the screen asks ------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.order)

    @property
    def selected(self) -> WorkRow | None:
        if not self.order:
            return None
        return self.shown.get(self.order[min(self.cursor_row, len(self.order) - 1)])

    def get_row_index(self, key: str) -> int:
        """The position of the row with `key` (ValueError when it is not shown)."""
        return self.order.index(key)

    def translate(self) -> None:
        """Forget every formatted line (language or theme changed) and repaint."""
        self._lines.clear()
        self.refresh()

    def on_unmount(self) -> None:
        gc.unfreeze()

    def on_focus(self, event: events.Focus) -> None:
        self._forget_views()

    def on_blur(self, event: events.Blur) -> None:
        self._forget_views()

    def _forget_views(self) -> None:
        for line in self._lines.values():
            line.views.clear()
        self.refresh()

    def sync(self, rows: Sequence[WorkRow], *, force: bool = False) -> None:
        """Show exactly `rows`, in this order; repaint only what changed."""
        selected = self.selected
        order = [row.key for row in rows]
        wanted = {row.key: row for row in rows}
        if force:
            self._lines.clear()
        if not force and order == self.order and wanted == self.shown:
            return
        changed = [key for key, row in wanted.items() if self.shown.get(key) is not row]
        reordered = order != self.order
        gone = any(key not in wanted for key in self.shown)
        self.shown = wanted
        self.order = order
        self._measure_numbers(changed, everything=force or gone)
        for key in [k for k in self._lines if k not in wanted]:
            del self._lines[key]
        if selected is not None and selected.key in wanted:
            self.cursor_row = order.index(selected.key)
        else:
            self.cursor_row = max(0, min(self.cursor_row, len(order) - 1))
        self.virtual_size = Size(self.line_width, len(order) + 1)
        if force or reordered:
            self.refresh()
        else:
            positions = {key: index for index, key in enumerate(order)}
            for key in changed:
                self.refresh_line(positions[key] + 1)
        now = self.selected
        if now is not selected and (now is None or selected is None or now.key != selected.key):
            self.post_message(self.RowHighlighted(now))

    def _measure_numbers(self, changed: list[str], *, everything: bool) -> None:
        """Size the number column to the widest number shown: measured in full when rows went
        (the widest may have gone with them), else only the changed rows can widen it."""
        keys = self.shown if everything else changed
        least = WIDTHS["number"] if everything else self._number_cells
        numbers = (cell_len(shown_number(self.shown[key])) for key in keys)
        widest = max([least, cell_len(t("list.number")), *numbers])
        if widest != self._number_cells:
            self._number_cells = widest
            self._fit_columns()

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        if not self.order:
            return
        row = max(0, min(row, len(self.order) - 1))
        if row != self.cursor_row:
            old = self.cursor_row
            self.cursor_row = row
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
            self.post_message(self.RowHighlighted(self.selected))
        if scroll:
            self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    # -- keys and mouse ------------------------------------------------------------------

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._page())

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self.order) - 1)

    def action_choose(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Chosen(row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_y) + offset.y - 1
        if index >= len(self.order):
            return
        if index == self.cursor_row:
            self.action_choose()
        else:
            self.move_cursor(row=index, scroll=False)

    # -- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            self._fit_columns()
            return self._fitted(self._header(), "work-list--header", scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self.order):
            if index == 0 and not self.loading:
                empty = Strip([Segment(" " + t("list.empty"), Style(dim=True))])
                return empty.crop(scroll_x, scroll_x + width).extend_cell_length(width)
            return Strip.blank(width, self.rich_style)
        line = self._line(self.order[index])
        if index == self.cursor_row:
            component = "work-list--cursor"
        else:
            component = "work-list--odd-row" if index % 2 else "work-list--even-row"
        view = (component, scroll_x, width)
        strip = line.views.get(view)
        if strip is None:
            strip = line.views[view] = self._fitted(line.strip, component, scroll_x, width)
        return strip

    def _fitted(self, strip: Strip, component: str, scroll_x: int, width: int) -> Strip:
        style = self.get_component_rich_style(component)
        strip = strip.crop(scroll_x, scroll_x + width).apply_style(style)
        return strip.extend_cell_length(width, style)

    def _header(self) -> Strip:
        pad = " " * GAP
        segments = [Segment(pad + fit(t(f"list.{c}"), self._widths[c])) for c in COLUMNS]
        return Strip([*segments, Segment(pad)], self.line_width)

    def _line(self, key: str) -> _Line:
        row = self.shown[key]
        now = self.service.clock()
        minute = int(now.timestamp() // 60)
        cached = self._lines.get(key)
        if cached is not None and cached.row is row and cached.minute == minute:
            return cached
        strip = Strip(self._segments(row, now), self.line_width)
        line = self._lines[key] = _Line(row, minute, strip)
        return line

    def _item_name(self, code: str) -> str:
        item = self.service.service_items.get(code)
        if item is None:
            return code
        return item.name if language() == "zh" else item.name_en

    def _colour(self, variable: str) -> Style:
        colour = self.app.theme_variables.get(variable, "")
        return Style.parse(f"bold {colour}".strip())

    def _segments(self, row: WorkRow, now: datetime) -> list[Segment]:
        cells = row_cells(row, now, self._item_name(row.service_item), self._colour)
        pad = " " * GAP
        segments: list[Segment] = []
        for column, (text, style) in zip(COLUMNS, cells, strict=True):
            segments.append(Segment(pad))
            segments.append(Segment(fit(text, self._widths[column]), style))
        segments.append(Segment(pad))
        return segments
