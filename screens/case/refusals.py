"""Provides `Refusals`: offers the case's changes the server refused, one at a time, in the
`ConflictDialog`, once the clerk has paused typing; `Refusals.Settled` says one was settled."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import on, work
from textual.message import Message

from screens.base import DeskWidget
from screens.conflicts import ConflictDialog
from screens.stylesheets import beside
from workbench.outbox import EntryState, OutboxEntry

__all__ = ["TYPING_PAUSE", "Refusals"]

TYPING_PAUSE = 0.8
"""Seconds without a key before a refusal dialog may open on its own."""


class Refusals(DeskWidget):
    """The refused changes of one case; shows nothing itself but the dialog."""

    DEFAULT_CSS = beside(__file__)

    class Refused(Message):
        """The server refused one of this case's changes."""

        def __init__(self, entry: OutboxEntry) -> None:
            super().__init__()
            self.entry = entry

    class Settled(Message):
        """The clerk settled a refused change (retried, dropped, or left it for later)."""

    def __init__(self, case_id: int, last_key: Callable[[], float]) -> None:
        """`last_key`: when the clerk last typed on the screen (`time.monotonic`)."""
        super().__init__()
        self.case_id = case_id
        self._last_key = last_key
        self._seen: set[int] = set()
        self._due: OutboxEntry | None = None

    @work(exclusive=True, group="conflicts", exit_on_error=False)
    async def check_conflicts(self) -> None:
        entries = await self.service.outbox_entries()
        mine = [
            e
            for e in entries
            if e.state is EntryState.CONFLICT
            and e.ordering_key == f"case:{self.case_id}"
            and e.id not in self._seen
        ]
        if mine:
            self.post_message(self.Refused(mine[0]))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        if message.entry.id in self._seen:
            return
        self._seen.add(message.entry.id)
        self._due = message.entry
        self.offer()

    def offer(self) -> None:
        """Open the refusal dialog once the screen is on top and the clerk has paused
        typing: a dialog that opens by itself must not catch a key meant for the screen
        (`d` decides there, but drops the refused change in the dialog)."""
        entry = self._due
        if entry is None or not self.is_attached or self.app.screen is not self.screen:
            return  # the screen offers it again when it is back on top
        quiet = time.monotonic() - self._last_key()
        if quiet < TYPING_PAUSE:
            self.set_timer(TYPING_PAUSE - quiet, self.offer)
            return
        self._due = None
        self.app.push_screen(ConflictDialog(entry), self._settled)

    def _settled(self, entry: OutboxEntry | None) -> None:
        self.post_message(self.Settled())
