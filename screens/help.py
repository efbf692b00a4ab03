"""Provides `HelpScreen` (F1): the keys of the screen beneath, generated from its bindings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from screens.base import DeskModal
from workbench.i18n import t

__all__ = ["HelpScreen"]


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
            yield Static(t("help.title", screen=self.title_text), classes="dialog-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static(t("help.footer"), classes="dim")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(t("help.key"), key="key")
        table.add_column(t("help.action"), key="action")
        table.add_column(t("help.explain"), key="explain")
        seen: set[str] = set()
        for binding, enabled in self.bindings:
            if binding.action in seen or binding.system:
                continue
            seen.add(binding.action)
            style = "" if enabled else "dim"
            table.add_row(
                Text(self.app.get_key_display(binding), style=f"bold {style}".strip()),
                Text(t(binding.description), style=style),
                Text(t(binding.tooltip) if binding.tooltip else "", style=style),
            )
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
