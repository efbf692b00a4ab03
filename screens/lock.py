"""Provides `LockScreen`: after the idle time it hides everything until the password is typed.

The password is checked against a salted hash kept in memory at login (so the lock works
offline too); personal data revealed before the lock is forgotten.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Input, Label, Static

from screens.base import DeskModal
from workbench.i18n import t

__all__ = ["LockScreen"]


class LockScreen(DeskModal[None]):
    """An opaque screen over everything; Enter with the right password unlocks."""

    def compose(self) -> ComposeResult:
        me = self.service.me
        with Center(id="lock-center"), Vertical(id="lock-box"):
            yield Static(t("lock.title"), classes="dialog-title")
            yield Static(t("lock.explain", user=me.username if me else ""))
            yield Input(password=True, id="lock-password")
            yield Label("", id="lock-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _unlock(self, event: Input.Submitted) -> None:
        self.unlock(event.value)
        event.input.value = ""

    @work(exclusive=True, group="unlock", exit_on_error=False)
    async def unlock(self, password: str) -> None:
        if await self.service.verify_password(password):
            self.dismiss(None)
            return
        self.query_one("#lock-error", Label).update(t("lock.wrong"))
