"""Provides `DisplayScreen`: the hall's call display, facing the visitors.

The latest call in large digits ("GA023 → 5") with its sentence ("GA023 → Window 5", "请 GA023 号到
5 号窗口"), the last few calls, and how many wait for each service item. It shows a
`DisplayBoard`, which holds numbers, codes, names of windows and service items, and counts:
there is nothing about a person on this screen to hide.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from api_client.models import DisplayBoard, DisplayCall
from screens.stylesheets import beside
from screens.widgets.call_digits import CallDigits
from workbench.i18n import language, t

__all__ = ["DisplayScreen"]


def call_sentence(call: DisplayCall) -> str:
    """ "GA023 → Window 5" / "请 GA023 号到 5 号窗口"."""
    return t("display.to_window", ticket=call.ticket, window=call.window_number)


class DisplayScreen(Screen[None]):
    """What the waiting room sees."""

    DEFAULT_CSS = beside(__file__)

    board: reactive[DisplayBoard | None] = reactive(None, always_update=True, init=False)
    status: reactive[str] = reactive("", init=False)
    offline: reactive[bool] = reactive(False, init=False)

    def compose(self) -> ComposeResult:
        yield Static("", id="display-hall")
        yield Static(t("display.title"), id="display-now-title")
        with Vertical(id="display-now"):
            yield CallDigits("", id="display-digits")
            yield Static(t("display.no_calls"), id="display-sentence")
        with Horizontal(id="display-lists"):
            recent = Static("", id="display-recent")
            recent.border_title = t("display.recent")
            yield recent
            waiting = Static("", id="display-waiting")
            waiting.border_title = t("display.waiting")
            yield waiting
        yield Static("", id="display-status")

    def watch_board(self, board: DisplayBoard | None) -> None:
        if board is None:
            return
        name = board.hall_name if language() == "zh" else board.hall_name_en
        self.query_one("#display-hall", Static).update(name)
        sentence = self.query_one("#display-sentence", Static)
        digits = self.query_one("#display-digits", CallDigits)
        latest = board.calls[0] if board.calls else None
        if latest is None:
            digits.update("")
            sentence.update(t("display.no_calls"))
        else:
            digits.update(f"{latest.ticket}→{latest.window_number}")
            recall = f" {t('display.recall')}" if latest.recall else ""
            sentence.update(call_sentence(latest) + recall)
        sentence.set_class(latest is not None and latest.recall, "-recall")
        self.query_one("#display-recent", Static).update(self._recent(board))
        self.query_one("#display-waiting", Static).update(self._waiting(board))

    def watch_status(self, status: str) -> None:
        self.query_one("#display-status", Static).update(status)

    def watch_offline(self, offline: bool) -> None:
        self.query_one("#display-status", Static).set_class(offline, "-offline")

    def _recent(self, board: DisplayBoard) -> Table | Text:
        if not board.calls:
            return Text(t("display.no_calls"))
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column(t("display.col_ticket"), style="bold")
        table.add_column(t("display.col_window"))
        table.add_column(t("display.col_time"), justify="right")
        for call in board.calls:
            recall = f" {t('display.recall')}" if call.recall else ""
            table.add_row(
                call.ticket,
                t("display.window", window=call.window_number) + recall,
                call.announced_at.astimezone(ZoneInfo(board.timezone)).strftime("%H:%M"),
            )
        return table

    def _waiting(self, board: DisplayBoard) -> Table | Text:
        queues = [q for q in board.queues if q.waiting > 0]
        if not queues:
            return Text(t("display.none_waiting"))
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column(t("display.col_item"))
        table.add_column(t("display.col_count"), justify="right", style="bold")
        zh = language() == "zh"
        for queue in sorted(queues, key=lambda q: (-q.waiting, q.service_item)):
            name = queue.name if zh else queue.name_en
            table.add_row(f"{queue.ticket_prefix}  {name}", str(queue.waiting))
        return table
