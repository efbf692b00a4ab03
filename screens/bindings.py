"""Provides `named_binding`: every named key of the workbench, its label, tooltip and id.

A binding's label and tooltip are catalogue keys (translated when shown) and its id is what a
user's keymap names to move the key elsewhere, so ids never change once released.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

__all__ = ["BOARD", "DESK", "MERGE", "BindingTable", "named_binding"]


@dataclass(frozen=True)
class BindingTable:
    """Where a binding's label and tooltip live in the catalogue, and how its id starts."""

    label: str
    """The label's catalogue key, with `{name}` for the binding's name."""
    tooltip: str
    id_prefix: str = ""


DESK = BindingTable("key.{name}", "tip.{name}")
"""The clerk's desk and the keys of the whole app."""
BOARD = BindingTable("board.key.{name}", "board.tip.{name}", id_prefix="board-")
MERGE = BindingTable("merge.key.{name}", "merge.tip.{name}", id_prefix="merge-")


def named_binding(
    key: str,
    action: str,
    name: str,
    *,
    table: BindingTable = DESK,
    show: bool = True,
    priority: bool = False,
    key_display: str | None = None,
    tooltip: str | None = None,
    binding_id: str | None = None,
) -> Binding:
    """The binding called `name`: its label and tooltip from `table` (or this `tooltip`
    catalogue key), its id `name` with dashes (or this `binding_id`)."""
    return Binding(
        key,
        action,
        table.label.format(name=name),
        show=show,
        key_display=key_display,
        priority=priority,
        tooltip=tooltip or table.tooltip.format(name=name),
        id=binding_id or table.id_prefix + name.replace("_", "-"),
    )
