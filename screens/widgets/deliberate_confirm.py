"""Provides `DeliberateConfirmDialog`: a yes-or-no that Enter cannot answer yes by accident.

For changes a stray Enter must not make (marking a visitor no-show while the recall countdown
still runs): the focus starts on No, so Enter keeps things as they are; only the confirm key
(`y`) or a click on the confirm button says yes; Enter and Escape say no.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Button

from screens.dialogs import ConfirmDialog

__all__ = ["DeliberateConfirmDialog"]


class DeliberateConfirmDialog(ConfirmDialog):
    """`ConfirmDialog` with the focus on No and `y` as the only key that confirms."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "y",
            "confirm",
            "key.confirm_yes",
            tooltip="tip.confirm_yes",
            id="dialog-confirm-yes",
        ),
    ]

    def on_mount(self) -> None:
        # runs before `ConfirmDialog.on_mount`, whose focus on the confirm button then fails:
        # the confirm button takes clicks, never the focus, so Enter can only mean No
        self.query_one("#confirm", Button).can_focus = False
        self.query_one("#cancel", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(True)
