"""Provides `HelpScreen` (F1): the keys of the screen beneath, generated from its bindings.

Our bindings name catalogue keys; Textual's own (Tab, Ctrl+Q, the arrows of a list...) carry
English text, so they are named through the catalogue by their action (`builtin.<action>` and
`builtin_tip.<action>`). The descriptions wrap inside a dialog as wide as the terminal allows,
so every row reads whole without scrolling sideways.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from screens.base import DeskModal
from workbench.i18n import t

__all__ = ["HelpScreen", "binding_texts"]

MAX_DIALOG_WIDTH = 140
"""The widest the dialog gets: longer lines are hard to read."""
MARGIN = 2
"""Cells left free on either side of the dialog."""
FRAME = 2 + 4 + 2
"""The dialog's border and padding, and the table's scroll bar."""
CELL_PADDING = 2
"""DataTable pads every cell by one on either side."""
MAX_ACTION_CELLS = 28
MIN_EXPLAIN_CELLS = 24


def _known(key: str) -> str | None:
    """The catalogue's text for `key`, or None when the catalogue has no such key."""
    text = t(key)
    return None if text == key else text


def action_key(action: str) -> str:
    """A catalogue name for a binding's action: `app.focus_next` → `focus_next`,
    `cursor_left(True)` → `cursor_left_select`."""
    name, _, arguments = action.partition("(")
    name = name.rpartition(".")[2]
    return f"{name}_select" if arguments.startswith("True") else name


def binding_texts(binding: Binding) -> tuple[str, str]:
    """What a binding does and why, in the current language."""
    name = action_key(binding.action)
    label = _known(binding.description) or _known(f"builtin.{name}") or binding.description or name
    tooltip = binding.tooltip or ""
    explain = _known(tooltip) if tooltip else None
    return label, explain or _known(f"builtin_tip.{name}") or tooltip


def screen_title(name: str) -> str:
    """The screen's name in the current language (`Main` → "Main screen", "主界面")."""
    return _known(f"help.screen.{name.lower()}") or name


class HelpScreen(DeskModal[None]):
    """Every binding that works on the screen beneath: key, what it does, and why."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "key.close", tooltip="tip.close", id="help-close"),
    ]

    def __init__(self, bindings: Iterable[tuple[Binding, bool]], title: str) -> None:
        super().__init__()
        self.bindings = list(bindings)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-help"):
            yield Static(
                t("help.title", screen=screen_title(self.title_text)), classes="dialog-title"
            )
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static(t("help.footer"), classes="dim")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(DataTable).focus()

    def translate(self) -> None:
        self.call_later(self._translated)

    async def _translated(self) -> None:
        await self.recompose()
        self.on_mount()

    def on_resize(self, event: events.Resize) -> None:
        self._fill()

    def _rows(self) -> list[tuple[str, str, str, bool]]:
        """(key, label, explanation, enabled) of each binding, once per action."""
        rows: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        for binding, enabled in self.bindings:
            if binding.action in seen or binding.system:
                continue
            seen.add(binding.action)
            label, explain = binding_texts(binding)
            rows.append((self.app.get_key_display(binding), label, explain, enabled))
        return rows

    def _fill(self) -> None:
        """Size the dialog to the terminal and lay the rows out so the descriptions wrap."""
        dialog_width = min(MAX_DIALOG_WIDTH, self.app.size.width - 2 * MARGIN)
        self.query_one(".dialog-help", Vertical).styles.width = dialog_width
        rows = self._rows()
        key_cells = max([cell_len(t("help.key")), *(cell_len(r[0]) for r in rows)])
        action_cells = min(
            MAX_ACTION_CELLS, max([cell_len(t("help.action")), *(cell_len(r[1]) for r in rows)])
        )
        explain_cells = max(
            MIN_EXPLAIN_CELLS, dialog_width - FRAME - key_cells - action_cells - 3 * CELL_PADDING
        )
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(t("help.key"), key="key", width=key_cells)
        table.add_column(t("help.action"), key="action", width=action_cells)
        table.add_column(t("help.explain"), key="explain", width=explain_cells)
        for key, label, explain, enabled in rows:
            style = "" if enabled else "dim"
            table.add_row(
                Text(key, style=f"bold {style}".strip()),
                Text(label, style=style),
                Text(explain, style=style),
                height=None,
            )

    def action_close(self) -> None:
        self.dismiss(None)
