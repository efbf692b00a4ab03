"""Provides the outbox screen (what waits to be sent, what was refused) and `ConflictDialog`.

A conflict is a change the server refused (someone else changed the case, the ticket moved
on, …). The clerk sees what changed and chooses: send again on the current version, or drop it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Static

from screens.base import DeskModal, DeskScreen
from screens.widgets.key_bar import KeyBar
from workbench.i18n import t
from workbench.outbox import EntryState, OutboxEntry
from workbench.store import Snapshot

__all__ = ["ConflictDialog", "OutboxScreen", "can_retry", "describe_conflict"]


def can_retry(entry: OutboxEntry) -> bool:
    """Whether sending the change again may succeed: yes after a conflict (409), a stale
    version (412) or a change too old to send blindly (0); not after a refusal of the change
    itself (422 and the other 4xx), which the server would refuse the same way again."""
    status = (entry.problem or {}).get("status")
    return not isinstance(status, int) or not 400 <= status < 500 or status in (409, 412)


def describe_conflict(entry: OutboxEntry) -> str:
    """What the server said, and how its current state differs from what the change assumed."""
    problem = entry.problem or {}
    lines = [t("conflict.change", what=entry.label)]
    detail = problem.get("detail") or problem.get("title")
    if detail:
        lines.append(t("conflict.server_said", detail=detail))
    current = entry.current or {}
    if entry.base_version is not None and "version" in current:
        lines.append(t("conflict.versions", mine=entry.base_version, theirs=current.get("version")))
    for name in ("status", "assignee", "window"):
        if name in current:
            lines.append(f"  {name}: {current[name]}")
    return "\n".join(lines)


class ConflictDialog(DeskModal[OutboxEntry | None]):
    """Settle one conflict: retry on the current version, discard, or later."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "key.retry", tooltip="tip.retry", id="conflict-retry"),
        Binding("d", "discard", "key.discard", tooltip="tip.discard", id="conflict-discard"),
        Binding("escape", "later", "key.later", tooltip="tip.later", id="conflict-later"),
    ]

    def __init__(self, entry: OutboxEntry) -> None:
        super().__init__()
        self.entry = entry
        self.retryable = can_retry(entry)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            stale = (self.entry.problem or {}).get("status") == 412
            title = t("conflict.title") if stale else t("conflict.refused")
            yield Static(title, classes="dialog-title")
            yield Static(describe_conflict(self.entry), markup=False)
            if not self.retryable:
                yield Static(t("conflict.cannot_succeed"), markup=False)
            with Horizontal(classes="dialog-buttons"):
                if self.retryable:
                    yield Button(t("conflict.retry"), variant="primary", id="retry")
                yield Button(t("conflict.discard"), variant="error", id="discard")
                yield Button(t("conflict.later"), id="later")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return self.retryable
        return True

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        if self.retryable:
            self.settle(retry=True)

    @on(Button.Pressed, "#discard")
    def action_discard(self) -> None:
        self.settle(retry=False)

    @on(Button.Pressed, "#later")
    def action_later(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="settle", exit_on_error=False)
    async def settle(self, *, retry: bool) -> None:
        if retry:
            await self.service.retry(self.entry)
        else:
            await self.service.discard(self.entry.id)
        self.dismiss(self.entry)


class OutboxScreen(DeskScreen):
    """Every change not yet confirmed by the server, conflicts first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "key.back", tooltip="tip.back", id="outbox-back"),
        Binding("enter", "settle", "key.settle", tooltip="tip.settle", id="outbox-settle"),
        Binding("r", "retry", "key.retry", tooltip="tip.retry", id="outbox-retry"),
        Binding("d", "discard", "key.discard", tooltip="tip.discard", id="outbox-discard"),
        Binding("g", "refresh", "key.refresh", tooltip="tip.refresh", id="outbox-refresh"),
    ]

    class Loaded(Message):
        def __init__(self, entries: list[OutboxEntry]) -> None:
            super().__init__()
            self.entries = entries

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, OutboxEntry] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(t("outbox.title"), id="outbox-title")
        yield Static("", id="outbox-summary")
        yield DataTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="outbox-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("state", "what", "age", "attempts", "problem"):
            table.add_column(t(f"outbox.{column}"), key=column)
        table.focus()
        if self.service.session is not None:
            self._unsubscribe = self.service.session.store.subscribe(self._changed)
        self.load()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _changed(self, old: Snapshot, new: Snapshot) -> None:
        if old.outbox != new.outbox:
            self.load()

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        table = self.query_one(DataTable)
        now = time.time()
        wanted = {str(e.id): e for e in message.entries}
        with self.app.batch_update():
            for key in [k for k in self.entries if k not in wanted]:
                table.remove_row(key)
            for key, entry in wanted.items():
                conflict = entry.state is EntryState.CONFLICT
                state = t("outbox.conflict") if conflict else t("outbox.pending")
                if not conflict and entry.not_before > now:
                    state = t("outbox.held", seconds=int(entry.not_before - now + 0.999))
                cells = (
                    Text(state, style="bold" if conflict else ""),
                    Text(entry.label),
                    Text(t("time.minutes", n=int((now - entry.created_at) // 60))),
                    Text(str(entry.attempts)),
                    Text((entry.last_error or "")[:60]),
                )
                if key in self.entries:
                    for column, cell in zip(
                        ("state", "what", "age", "attempts", "problem"), cells, strict=True
                    ):
                        table.update_cell(key, column, cell)
                else:
                    table.add_row(*cells, key=key)
        self.entries = wanted
        conflicts = sum(e.state is EntryState.CONFLICT for e in message.entries)
        self.query_one("#outbox-summary", Static).update(
            t("outbox.summary", pending=len(message.entries) - conflicts, conflicts=conflicts)
            if message.entries
            else t("outbox.empty")
        )
        self._show_detail()

    def _selected(self) -> OutboxEntry | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.entries.get(str(key.value))

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        entry = self._selected()
        detail = self.query_one("#outbox-detail", Static)
        if entry is None:
            detail.update("")
        elif entry.state is EntryState.CONFLICT:
            detail.update(Text(describe_conflict(entry) + "\n\n" + t("outbox.what_to_do")))
        else:
            detail.update(Text(t("outbox.waiting_detail", what=entry.label)))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load()

    def action_settle(self) -> None:
        entry = self._selected()
        if entry is not None and entry.state is EntryState.CONFLICT:
            self.app.push_screen(ConflictDialog(entry), self._settled)

    def _settled(self, _entry: OutboxEntry | None) -> None:
        self.load()

    def action_retry(self) -> None:
        entry = self._selected()
        if entry is not None and entry.state is EntryState.CONFLICT:
            if not can_retry(entry):
                self.notify(t("conflict.cannot_succeed"), severity="warning")
                return
            self.settle(entry, retry=True)

    def action_discard(self) -> None:
        entry = self._selected()
        if entry is not None and entry.state is EntryState.CONFLICT:
            self.settle(entry, retry=False)

    @work(exclusive=True, group="outbox-load", exit_on_error=False)
    async def load(self) -> None:
        self.post_message(self.Loaded(await self.service.outbox_entries()))

    @work(exclusive=True, group="settle", exit_on_error=False)
    async def settle(self, entry: OutboxEntry, *, retry: bool) -> None:
        if retry:
            await self.service.retry(entry)
        else:
            await self.service.discard(entry.id)
        self.post_message(self.Loaded(await self.service.outbox_entries()))
