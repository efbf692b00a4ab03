"""Provides `BoardScreen`: the supervisor's live board of the hall, made of widgets with one job
each (the lines over the tables, one table per section, the trends, the supervisor's actions).

Windows, queues, promised time limits, the alerts feed and the day's trends, from one snapshot
kept current by the event stream (`workbench.board_state.BoardState`). Events only fold into the
state; a 0.15 s timer repaints the sections that changed, inside one `batch_update`, with keyed
in-place cell updates, so however many events arrive the screen repaints a few times a second.
Every action is a key; `SupervisorActions` asks what it needs and runs its call to the hall in a
named worker through the outbox.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message

from api_client.errors import ApiError
from api_client.event_stream import ConnectionState
from api_client.models import Event
from screens.base import DeskScreen
from screens.bindings import BOARD, named_binding
from screens.board.actions import SupervisorActions
from screens.board.alerts import AlertsTable
from screens.board.cases import CasesTable
from screens.board.lines import AlarmBanner, OutageLine, StatusLine
from screens.board.queues import QueuesTable
from screens.board.table import BoardTable
from screens.board.trends import Trends
from screens.board.windows import WindowsTable
from screens.errors import describe_error
from screens.host import OpenMain
from screens.stylesheets import beside
from screens.widgets.key_bar import KeyBar
from workbench.board_service import BoardService
from workbench.board_state import BoardState
from workbench.i18n import t

__all__ = ["REPAINT_SECONDS", "BoardScreen"]

REPAINT_SECONDS = 0.15
TICK_SECONDS = 1.0
TREND_SECONDS = 1.0
FLASH_SECONDS = 0.5
RETRY_SECONDS = 3.0
ACTIONS_CHECKED = ("acknowledge", "move_ticket", "reactivate", "reassign")


class BoardScreen(DeskScreen):
    """The supervisor's board."""

    BINDINGS: ClassVar[list[BindingType]] = [
        named_binding("k", "acknowledge", "acknowledge", table=BOARD),
        named_binding("m", "move_ticket", "move", table=BOARD),
        named_binding("n", "reactivate", "reactivate", table=BOARD),
        named_binding("a", "reassign", "reassign", table=BOARD),
        named_binding("c", "close_window", "close", table=BOARD),
        named_binding("u", "unmerge", "unmerge", table=BOARD),
        named_binding("f5", "reload", "reload", table=BOARD),
    ]

    DEFAULT_CSS = beside(__file__)

    class Loaded(Message):
        """The snapshot arrived (or arrived again after a reload)."""

        def __init__(self, state: BoardState) -> None:
            super().__init__()
            self.state = state

    class LoadFailed(Message):
        """The snapshot could not be read (the worker tries again)."""

        def __init__(self, error: ApiError) -> None:
            super().__init__()
            self.error = error

    status_line: StatusLine
    outage_line: OutageLine
    alarm_banner: AlarmBanner
    windows_table: WindowsTable
    queues_table: QueuesTable
    cases_table: CasesTable
    alerts_table: AlertsTable
    trends: Trends
    supervisor: SupervisorActions

    def __init__(self, board: BoardService | None = None) -> None:
        super().__init__()
        self.state: BoardState | None = None
        self.board: BoardService | None = board
        self.painted_seq = 0
        self.frames = 0
        self.longest_repaint = 0.0
        self.on_painted: Callable[[int, float], None] | None = None
        """Called after each repaint with the newest seq shown and the time (bench hook)."""
        self.flashing = True
        """Whether the alarm banner blinks (a still picture for snapshots turns it off)."""
        self._unlisten: Callable[[], None] | None = None
        self._available: tuple[bool | None, ...] = ()
        self._trends_painted = 0.0

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # kept as attributes (composed again after a language change): the repaint, several
        # times a second, reaches them without a query
        self.status_line = StatusLine(t("board.loading"), id="board-status")
        self.outage_line = OutageLine("", id="board-outage")
        self.alarm_banner = AlarmBanner(id="board-alarm")
        self.windows_table = WindowsTable()
        self.queues_table = QueuesTable()
        self.cases_table = CasesTable()
        self.alerts_table = AlertsTable()
        self.trends = Trends(id="board-trends")
        self.supervisor = SupervisorActions(self.board, self.state)
        yield self.status_line
        yield self.outage_line
        yield self.alarm_banner
        with Horizontal(id="board-top"):
            yield self.windows_table
            yield self.queues_table
        with Horizontal(id="board-bottom"):
            yield self.cases_table
            yield self.alerts_table
            yield self.trends
        yield KeyBar()
        yield self.supervisor

    @property
    def tables(self) -> tuple[BoardTable, ...]:
        return (self.windows_table, self.queues_table, self.cases_table, self.alerts_table)

    def on_mount(self) -> None:
        me = self.service.me
        if me is None or me.role not in ("supervisor", "admin"):
            self.notify(t("board.not_allowed"), severity="error")
            self.post_message(OpenMain())
            return
        if self.board is None:
            self.board = BoardService(self.service)
        self.supervisor.board = self.board
        self._unlisten = self.board.add_state_listener(self._connection_changed)
        for table in self.tables:
            table.set_up()
        self.windows_table.focus()
        self.set_interval(REPAINT_SECONDS, self._repaint)
        self.set_interval(TICK_SECONDS, self._tick)
        self.set_interval(FLASH_SECONDS, self._flash)
        self.follow_board()

    async def on_unmount(self) -> None:
        gc.unfreeze()
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self.board is not None:
            await self.board.stop()

    def translate(self) -> None:
        super().translate()
        self.call_later(self._after_recompose)

    def _after_recompose(self) -> None:
        for table in self.tables:
            table.set_up()
        if self.state is not None:
            self.state.dirty.update(("windows", "queues", "cases", "alerts", "ratings", "trend"))

    # -- live ------------------------------------------------------------------------------

    @work(exclusive=True, group="board-live", exit_on_error=False)
    async def follow_board(self) -> None:
        """Load the snapshot, then follow the stream from its seq (retrying the snapshot)."""
        assert self.board is not None
        while True:
            try:
                state = await self.board.snapshot()
                break
            except ApiError as error:
                self.post_message(self.LoadFailed(error))
                await asyncio.sleep(RETRY_SECONDS)
        self.post_message(self.Loaded(state))

        # events fold into the state from its seq on, also before `Loaded` is handled;
        # `state.apply` is looked up for each event (the bench times it)
        def fold(event: Event) -> None:
            state.apply(event)

        await self.board.follow(state.seq, fold)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self.status_line.show(t("board.load_failed", error=describe_error(message.error)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.state = message.state
        self.supervisor.state = message.state
        self.state.tick(self.service.clock())
        self._repaint()
        # Everything alive now (the app, the libraries, the snapshot) lives as long as the
        # board: out of the cyclic collector's sight, a full pass walks only what came since
        # (it walked it all, 130-150 ms, every 20-30 s under 500 events/s). Thawed on unmount.
        gc.collect()
        gc.freeze()

    def _connection_changed(self, _state: ConnectionState) -> None:
        self._show_status()

    # -- painting --------------------------------------------------------------------------

    def _repaint(self) -> None:
        state = self.state
        if state is None or not state.dirty:
            return
        started = time.perf_counter()
        dirty = state.take_dirty()
        trends = dirty & {"ratings", "trend"}
        if trends and started - self._trends_painted < TREND_SECONDS:
            state.dirty.update(trends)  # quarter-hour sparklines: once a second is plenty
            dirty -= trends
            trends = set()
        now = self.service.clock()
        with self.app.batch_update():
            if "windows" in dirty:
                self.windows_table.paint(state, now)
            if "queues" in dirty:
                self.queues_table.paint(state, now)
            if "cases" in dirty:
                self.cases_table.paint(state, now)
            if "alerts" in dirty:
                self.alerts_table.paint(state)
                self.alarm_banner.paint(state)
            if trends:
                self._trends_painted = started
                self.trends.paint(state, now)
            self._show_status()
        self.painted_seq = state.seq
        self.frames += 1
        self.longest_repaint = max(self.longest_repaint, time.perf_counter() - started)
        self._refresh_bindings_if_changed()
        if self.on_painted is not None:
            self.on_painted(state.seq, time.time())

    def _show_status(self) -> None:
        state, board = self.state, self.board
        if state is None or board is None:
            return
        self.status_line.paint(state, board, self.service.clock())
        self.outage_line.paint(board)

    def _tick(self) -> None:
        state = self.state
        if state is None:
            return
        state.tick(self.service.clock())
        state.dirty.update(("windows", "queues"))  # the minutes shown move on
        self._show_status()

    def _flash(self) -> None:
        self.alarm_banner.flash(self.flashing)

    # -- which actions are available -------------------------------------------------------

    def _refresh_bindings_if_changed(self) -> None:
        """The key bar is redrawn only when an action became (un)available."""
        available = tuple(self.check_action(a, ()) for a in ACTIONS_CHECKED)
        if available != self._available:
            self._available = available
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.state
        if action == "reload":
            return True
        if state is None:
            return False
        if action == "acknowledge":
            return bool(state.alerts)
        if action == "move_ticket":
            return any(q.waiting for q in state.queues.values())
        if action == "reactivate":
            return state.has_no_shows
        if action == "reassign":
            return bool(state.cases)
        return True

    # -- actions ---------------------------------------------------------------------------

    def _picked(self, table: BoardTable) -> str | None:
        """The row selected in `table` when the supervisor is in it."""
        return table.selected_key() if self.focused is table else None

    def action_acknowledge(self) -> None:
        state = self.state
        if state is None or not state.alerts:
            return
        key = self._picked(self.alerts_table)
        alert = next((a for a in state.alerts if a.key == key), None)
        if alert is None:  # the newest emergency first, else the newest alert
            alert = next((a for a in state.alerts if a.emergency), state.alerts[0])
        if alert.emergency and alert.alarm_id is not None:
            self.supervisor.acknowledge_alarm(alert.alarm_id, alert.subject)
        else:
            state.dismiss(alert.key)
            self._repaint()

    def action_move_ticket(self) -> None:
        self.supervisor.ask_move(self._picked(self.queues_table))

    def action_reactivate(self) -> None:
        self.supervisor.ask_reactivate()

    def action_reassign(self) -> None:
        self.supervisor.ask_reassign(self._picked(self.cases_table))

    def action_close_window(self) -> None:
        self.supervisor.ask_close(self._picked(self.windows_table))

    def action_unmerge(self) -> None:
        """The selected case's merges (the newest first; Enter undoes one), or ask for a case."""
        self.supervisor.show_merges(self._picked(self.cases_table))

    def action_reload(self) -> None:
        self.reload_board()

    @work(exclusive=True, group="board-reload", exit_on_error=False)
    async def reload_board(self) -> None:
        assert self.board is not None
        await self.board.stop()
        self.follow_board()

    @on(SupervisorActions.Done)
    def _done(self, message: SupervisorActions.Done) -> None:
        self.notify(message.note, severity=message.severity)
        if self.state is not None:
            self.state.dirty.add("alerts")
