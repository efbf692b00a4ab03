"""Provides `BoardScreen`: the supervisor's live board of the hall.

Windows, queues, promised time limits, the alerts feed and the day's trends, from one snapshot
kept current by the event stream (`workbench.board_state.BoardState`). Events only fold into the
state; a 0.15 s timer repaints the sections that changed, inside one `batch_update`, with keyed
in-place cell updates, so however many events arrive the screen repaints a few times a second.
Every action is a key; its call to the hall runs in a named worker through the outbox.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Label, Sparkline, Static

from api_client.errors import ApiError
from api_client.event_stream import ConnectionState
from api_client.models import Event
from screens.base import DeskScreen
from screens.bindings import BOARD, named_binding
from screens.dialogs import ChoiceDialog, ConfirmDialog, PromptDialog
from screens.errors import describe_error
from screens.host import OpenMain
from screens.merge import ask_merge_history, open_merge_history
from screens.stylesheets import beside
from screens.widgets.key_bar import KeyBar
from screens.widgets.live_table import LiveTable
from workbench.board_service import ActionResult, BoardService
from workbench.board_state import Alert, BoardState
from workbench.i18n import language, t

__all__ = ["REPAINT_SECONDS", "BoardScreen"]

REPAINT_SECONDS = 0.15
TICK_SECONDS = 1.0
TREND_SECONDS = 1.0
FLASH_SECONDS = 0.5
ALERTS_SHOWN = 60
RETRY_SECONDS = 3.0
ACTIONS_CHECKED = ("acknowledge", "move_ticket", "reactivate", "reassign")

COLUMNS: dict[str, tuple[str, ...]] = {
    "windows": ("window", "clerk", "state", "ticket", "for", "served", "idle"),
    "queues": ("item", "waiting", "longest", "average", "served", "no_shows", "limits"),
    "cases": ("case", "department", "item", "assignee", "deadline", "clock"),
    "alerts": ("time", "kind", "what"),
}


def _minutes(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


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

    class Done(Message):
        """A supervisor action ended."""

        def __init__(self, note: str, severity: SeverityLevel = "information") -> None:
            super().__init__()
            self.note = note
            self.severity = severity

    def __init__(self, board: BoardService | None = None) -> None:
        super().__init__()
        self.state: BoardState | None = None
        self.board: BoardService | None = board
        self.painted_seq = 0
        self.frames = 0
        self.longest_repaint = 0.0
        self.on_painted: Callable[[int, float], None] | None = None
        """Called after each repaint with the newest seq shown and the time (bench hook)."""
        self._flash_on = False
        self.flashing = True
        """Whether the alarm banner blinks (a still picture for snapshots turns it off)."""
        self._unlisten: Callable[[], None] | None = None
        self._row_cells: dict[str, dict[str, tuple[Any, ...]]] = {name: {} for name in COLUMNS}
        self._available: tuple[bool | None, ...] = ()
        self._trends_painted = 0.0
        self._shown: dict[str, str] = {}

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(t("board.loading"), id="board-status")
        yield Static("", id="board-outage")
        yield Static("", id="board-alarm")
        with Horizontal(id="board-top"):
            yield LiveTable(id="board-windows", cursor_type="row", zebra_stripes=True)
            yield LiveTable(id="board-queues", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="board-bottom"):
            yield LiveTable(id="board-cases", cursor_type="row")
            yield LiveTable(id="board-alerts", cursor_type="row")
            with Vertical(id="board-trends"):
                yield Label(t("board.trend.tickets"), id="board-tickets-label")
                yield Sparkline([], id="board-tickets-spark")
                yield Label(t("board.trend.wait"), id="board-wait-label")
                yield Sparkline([], id="board-wait-spark")
                yield Static("", id="board-satisfaction")
        yield KeyBar()

    def on_mount(self) -> None:
        me = self.service.me
        if me is None or me.role not in ("supervisor", "admin"):
            self.notify(t("board.not_allowed"), severity="error")
            self.post_message(OpenMain())
            return
        if self.board is None:
            self.board = BoardService(self.service)
        self._unlisten = self.board.add_state_listener(self._connection_changed)
        for name, columns in COLUMNS.items():
            table = self._table(name)
            table.border_title = t(f"board.{name}.title")
            for column in columns:
                table.add_column(t(f"board.{name}.{column}"), key=column)
        self._table("windows").focus()
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
        self._row_cells = {name: {} for name in COLUMNS}
        self._shown = {}
        super().translate()
        self.call_later(self._after_recompose)

    def _after_recompose(self) -> None:
        for name, columns in COLUMNS.items():
            table = self._table(name)
            table.border_title = t(f"board.{name}.title")
            if not table.columns:
                for column in columns:
                    table.add_column(t(f"board.{name}.{column}"), key=column)
        if self.state is not None:
            self.state.dirty.update(("windows", "queues", "cases", "alerts", "ratings", "trend"))

    def _table(self, name: str) -> DataTable[Any]:
        return self.query_one(f"#board-{name}", DataTable)

    def _live(self, name: str) -> LiveTable:
        return self.query_one(f"#board-{name}", LiveTable)

    # -- live ------------------------------------------------------------------------------

    @work(exclusive=True, group="board-live", exit_on_error=False)
    async def follow_board(self) -> None:
        """Load the snapshot, then follow the stream from its seq (retrying the snapshot)."""
        assert self.board is not None
        while True:
            try:
                state = await self.board.snapshot()
            except ApiError as error:
                self.query_one("#board-status", Static).update(
                    t("board.load_failed", error=describe_error(error))
                )
                await self._sleep(RETRY_SECONDS)
                continue
            self.post_message(self.Loaded(state))
            self.state = state
            await self.board.follow(state.seq, self._event)
            return

    async def _sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(seconds)

    def _event(self, event: Event) -> None:
        if self.state is not None:
            self.state.apply(event)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.state = message.state
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
                self._paint_windows(state, now)
            if "queues" in dirty:
                self._paint_queues(state, now)
            if "cases" in dirty:
                self._paint_cases(state, now)
            if "alerts" in dirty:
                self._paint_alerts(state)
            if trends:
                self._trends_painted = started
                self._paint_trends(state, now)
            self._show_status()
        self.painted_seq = state.seq
        self.frames += 1
        self.longest_repaint = max(self.longest_repaint, time.perf_counter() - started)
        self._refresh_bindings_if_changed()
        if self.on_painted is not None:
            self.on_painted(state.seq, time.time())

    def _colour(self, name: str) -> str:
        return self.app.theme_variables.get(name, "")

    def _sync(
        self,
        name: str,
        rows: Sequence[tuple[str, tuple[Any, ...]]],
        *,
        ordered: bool = False,
    ) -> None:
        """Keyed in-place update: only changed rows are re-rendered; rows come and go by key."""
        table = self._live(name)
        cache = self._row_cells[name]
        keys = [key for key, _ in rows]
        if ordered and keys != list(cache):
            table.clear()
            cache.clear()
        wanted = set(keys)
        for gone in [key for key in cache if key not in wanted]:
            table.remove_row(gone)
            del cache[gone]
        columns = COLUMNS[name]
        changes: dict[str, dict[str, Any]] = {}
        for key, cells in rows:
            old = cache.get(key)
            if old is None:
                table.add_row(*cells, key=key)
            elif old != cells:
                changes[key] = {
                    column: after
                    for column, before, after in zip(columns, old, cells, strict=True)
                    if before != after
                }
            cache[key] = cells
        if changes:
            table.update_rows(changes)

    def _paint_windows(self, state: BoardState, now: datetime) -> None:
        zh = language() == "zh"
        rows = []
        for w in sorted(state.windows.values(), key=lambda w: w.number):
            activity = w.activity
            label = t(f"board.activity.{activity}")
            if activity == "paused":
                label = t("board.activity.paused_reason", reason=w.pause_reason or "-")
            colour = {"paused": "warning", "closed": "text-muted", "serving": "success"}.get(
                activity, ""
            )
            since = w.ticket.called_at if w.ticket is not None else None
            rows.append(
                (
                    w.code,
                    (
                        f"{w.code} {w.name if zh else w.name_en}"[:24],
                        w.clerk or "-",
                        Text(label, style=self._colour(colour)),
                        w.ticket.number if w.ticket else "-",
                        _minutes((now - since).total_seconds()) if since else "-",
                        w.served_today,
                        int(w.idle_total(now) // 60),
                    ),
                )
            )
        self._sync("windows", rows)

    def _paint_queues(self, state: BoardState, now: datetime) -> None:
        zh = language() == "zh"
        rows = []
        for q in sorted(state.queues.values(), key=lambda q: q.service_item):
            level = q.level(now)
            style = {
                "warning": f"bold {self._colour('warning')}",
                "critical": f"bold reverse {self._colour('error')}",
            }.get(level, "")
            name = f"{q.service_item} {q.name if zh else q.name_en}"[:22]
            rows.append(
                (
                    q.service_item,
                    (
                        Text(name, style=style),
                        Text(str(len(q.waiting)), style=style),
                        Text(_minutes(q.longest_wait(now)), style=style),
                        _minutes(q.average_wait(now)),
                        q.served_today,
                        q.no_shows_today,
                        f"{q.warning_minutes}/{q.critical_minutes}",
                    ),
                )
            )
        self._sync("queues", rows)

    def _paint_cases(self, state: BoardState, now: datetime) -> None:
        zh = language() == "zh"
        today = state.today(now)
        rows = []
        for c in sorted(state.cases.values(), key=lambda c: (c.deadline, c.id)):
            clock = c.clock(today)
            colour = self._colour("clock-overdue" if clock == "overdue" else "clock-due-soon")
            rows.append(
                (
                    str(c.id),
                    (
                        c.number,
                        c.department_name if zh else c.department_name_en,
                        c.service_item,
                        c.assignee or "-",
                        c.deadline.isoformat(),
                        Text(t(f"board.clock.{clock}"), style=f"bold {colour}"),
                    ),
                )
            )
        self._sync("cases", rows, ordered=True)

    def describe(self, alert: Alert) -> str:
        return t(f"board.alert.{alert.kind}", subject=alert.subject, **alert.detail)

    def _paint_alerts(self, state: BoardState) -> None:
        rows = []
        for alert in list(state.alerts)[:ALERTS_SHOWN]:
            colour = (
                "error" if alert.kind in ("alarm", "wait_critical", "bad_rating") else "warning"
            )
            style = f"bold {self._colour(colour)}" if alert.emergency else self._colour(colour)
            local = alert.at.astimezone(state.timezone)
            rows.append(
                (
                    alert.key,
                    (
                        local.strftime("%H:%M:%S"),
                        Text(t(f"board.kind.{alert.kind}"), style=style),
                        Text(self.describe(alert), style=style if alert.emergency else ""),
                    ),
                )
            )
        self._sync("alerts", rows, ordered=True)
        alarms = [a for a in state.alerts if a.emergency]
        banner = self.query_one("#board-alarm", Static)
        banner.set_class(bool(alarms), "-shown")
        if alarms:
            what = self.describe(alarms[0])
            self._put("#board-alarm", t("board.alarm_banner", count=len(alarms), what=what))

    def _paint_trends(self, state: BoardState, now: datetime) -> None:
        tickets, waits = state.quarter_series(now)
        series = {"#board-tickets-spark": [float(n) for n in tickets], "#board-wait-spark": waits}
        for spark_id, values in series.items():
            # Sparkline scales min..max, so an all-zero day would draw as full bars
            data = values if any(values) else []
            spark = self.query_one(spark_id, Sparkline)
            if spark.data != data:
                spark.data = data
        count = tickets[-1] if tickets else 0
        self._put("#board-tickets-label", t("board.trend.tickets_now", count=count))
        minutes = f"{waits[-1]:.1f}" if waits else "0"
        self._put("#board-wait-label", t("board.trend.wait_now", minutes=minutes))
        ratings = state.ratings
        rate = "-" if ratings.rate is None else f"{100 * ratings.rate:.0f}%"
        lines = [t("board.satisfaction", rate=rate, count=ratings.count, bad=len(ratings.bad))]
        lines += [
            t("board.bad_rating", score=r["score"], subject=r["subject"], clerk=r["clerk"] or "-")
            for r in list(ratings.bad)[:5]
        ]
        self._put("#board-satisfaction", "\n".join(lines))

    def _put(self, selector: str, text: str) -> None:
        """Update a Static only when its text changed, and re-lay the screen out only when its
        number of lines changed (a layout refreshes every table's scrollbars: costly)."""
        before = self._shown.get(selector)
        if before != text:
            self._shown[selector] = text
            layout = before is None or before.count("\n") != text.count("\n")
            self.query_one(selector, Static).update(text, layout=layout)

    def _show_status(self) -> None:
        state, board = self.state, self.board
        if state is None or board is None:
            return
        connection = t(f"connection.{board.connection.value}")
        self._put(
            "#board-status",
            t(
                "board.status",
                hall=state.hall,
                time=self.service.clock().astimezone(state.timezone).strftime("%H:%M:%S"),
                connection=connection,
                seq=state.seq,
            ),
        )
        outage = self.query_one("#board-outage", Static)
        if board.outage is not None:
            seconds = int(time.monotonic() - board.outage.started)
            self._put("#board-outage", t("board.offline_now", seconds=seconds))
        elif board.last_outage is not None and board.last_outage.seconds is not None:
            seconds = int(board.last_outage.seconds + 0.5)
            self._put("#board-outage", t("board.offline_was", seconds=seconds))
        outage.set_class(board.outage is not None or board.last_outage is not None, "-shown")

    def _tick(self) -> None:
        state = self.state
        if state is None:
            return
        state.tick(self.service.clock())
        state.dirty.update(("windows", "queues"))  # the minutes shown move on
        self._show_status()

    def _flash(self) -> None:
        banner = self.query_one("#board-alarm", Static)
        blink = not self._flash_on if self.flashing else True
        self._flash_on = blink and banner.has_class("-shown")
        banner.set_class(self._flash_on, "-flash")

    # -- selection helpers -----------------------------------------------------------------

    def _selected(self, name: str) -> str | None:
        table = self._table(name)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

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

    def _choose(
        self, title: str, options: list[tuple[str, str]], then: Callable[[str], object]
    ) -> None:
        if not options:
            self.notify(t("board.nothing_to_choose"), severity="warning")
            return

        def chosen(value: str | None) -> None:
            if value:
                then(value)

        self.app.push_screen(ChoiceDialog(title, options), chosen)

    def action_acknowledge(self) -> None:
        state = self.state
        if state is None or not state.alerts:
            return
        key = self._selected("alerts") if self.focused is self._table("alerts") else None
        alert = next((a for a in state.alerts if a.key == key), None)
        if alert is None:  # the newest emergency first, else the newest alert
            alert = next((a for a in state.alerts if a.emergency), state.alerts[0])
        if alert.emergency and alert.alarm_id is not None:
            self.acknowledge_alarm(alert.alarm_id, alert.subject)
        else:
            state.dismiss(alert.key)
            self._repaint()

    def action_move_ticket(self) -> None:
        state = self.state
        if state is None:
            return
        item = self._selected("queues") if self.focused is self._table("queues") else None
        tickets = state.waiting_tickets(item if item and state.queues[item].waiting else None)
        options = [
            (str(x.id), f"{x.number}  {x.service_item}  {x.target_window or ''}") for x in tickets
        ][:50]
        self._choose(t("board.move.which"), options, self._move_where)

    def _move_where(self, ticket_id: str) -> None:
        state = self.state
        if state is None:
            return
        zh = language() == "zh"
        windows = [
            (f"w:{w.code}", t("board.move.to_window", window=w.code, clerk=w.clerk or "-"))
            for w in sorted(state.windows.values(), key=lambda w: w.number)
            if w.activity != "closed"
        ]
        items = [
            (f"i:{q.service_item}", t("board.move.to_item", item=q.service_item,
                                      name=q.name if zh else q.name_en))
            for q in sorted(state.queues.values(), key=lambda q: q.service_item)
        ]  # fmt: skip

        def move(target: str) -> None:
            kind, _, code = target.partition(":")
            self.move_ticket(
                int(ticket_id),
                window=code if kind == "w" else None,
                service_item=code if kind == "i" else None,
            )

        self._choose(t("board.move.where"), windows + items, move)

    def action_reactivate(self) -> None:
        state = self.state
        if state is None:
            return
        options = [
            (str(x.id), f"{x.number}  {x.service_item}  {x.window or ''}") for x in state.no_shows()
        ]
        self._choose(t("board.reactivate.which"), options, lambda v: self.reactivate(int(v)))

    def action_reassign(self) -> None:
        state = self.state
        if state is None:
            return
        key = self._selected("cases") if self.focused is self._table("cases") else None
        cases = [state.cases[int(key)]] if key and int(key) in state.cases else []
        if not cases:
            options = [
                (str(c.id), f"{c.number}  {c.assignee or '-'}") for c in state.cases.values()
            ]
            self._choose(t("board.reassign.which"), options, self._reassign_to)
            return
        self._reassign_to(str(cases[0].id))

    def _reassign_to(self, case_id: str) -> None:
        state = self.state
        if state is None or int(case_id) not in state.cases:
            return
        case = state.cases[int(case_id)]
        clerks = sorted({w.clerk for w in state.windows.values() if w.clerk and w.clerk != "?"})
        options = [(c, c) for c in clerks if c != case.assignee]
        self._choose(
            t("board.reassign.to", case=case.number),
            options,
            lambda clerk: self.reassign(case.id, clerk, case.version),
        )

    def action_close_window(self) -> None:
        state = self.state
        if state is None:
            return
        key = self._selected("windows") if self.focused is self._table("windows") else None
        if key is None or key not in state.windows or state.windows[key].state == "closed":
            options = [
                (w.code, f"{w.code}  {w.clerk or '-'}")
                for w in sorted(state.windows.values(), key=lambda w: w.number)
                if w.state != "closed"
            ]
            self._choose(t("board.close.which"), options, self._confirm_close)
            return
        self._confirm_close(key)

    def _confirm_close(self, window: str) -> None:
        def reason(text: str | None) -> None:
            if text is not None:
                self.close_window(window, text.strip() or None)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(PromptDialog(t("board.close.reason")), reason)

        self.app.push_screen(
            ConfirmDialog(t("board.close.confirm", window=window), danger=True), confirmed
        )

    def action_unmerge(self) -> None:
        """The selected case's merges (the newest first; Enter undoes one), or ask for a case."""
        state = self.state
        key = self._selected("cases") if self.focused is self._table("cases") else None
        if state is not None and key is not None and int(key) in state.cases:
            case = state.cases[int(key)]
            open_merge_history(self, case.id, case.number)
        else:
            ask_merge_history(self)

    def action_reload(self) -> None:
        self.reload_board()

    # -- workers ---------------------------------------------------------------------------

    def _report(self, result: ActionResult, done: str) -> None:
        if result.state == "sent":
            self.post_message(self.Done(done))
        elif result.state == "refused":
            self.post_message(self.Done(t("board.refused", why=result.detail or "-"), "error"))
        else:
            self.post_message(self.Done(t("board.queued"), "warning"))

    async def _run(self, call: Callable[[], Any], done: str) -> None:
        try:
            result = await call()
        except ApiError as error:
            self.post_message(self.Done(describe_error(error), "error"))
            return
        self._report(result, done)

    @work(group="board-action", exit_on_error=False)
    async def move_ticket(
        self, ticket_id: int, *, window: str | None = None, service_item: str | None = None
    ) -> None:
        assert self.board is not None
        board = self.board
        state = self.state
        number = state.tickets[ticket_id].number if state and ticket_id in state.tickets else "?"
        target = window or service_item or "-"
        await self._run(
            lambda: board.move_ticket(ticket_id, window=window, service_item=service_item),
            t("board.done.move", number=number, target=target),
        )

    @work(group="board-action", exit_on_error=False)
    async def reactivate(self, ticket_id: int) -> None:
        assert self.board is not None
        board = self.board
        state = self.state
        number = state.tickets[ticket_id].number if state and ticket_id in state.tickets else "?"
        await self._run(
            lambda: board.reactivate(ticket_id), t("board.done.reactivate", number=number)
        )

    @work(group="board-action", exit_on_error=False)
    async def reassign(self, case_id: int, clerk: str, version: int) -> None:
        assert self.board is not None
        board = self.board
        await self._run(
            lambda: board.reassign(case_id, clerk, version=version),
            t("board.done.reassign", clerk=clerk),
        )

    @work(group="board-action", exit_on_error=False)
    async def close_window(self, window: str, reason: str | None) -> None:
        assert self.board is not None
        board = self.board
        await self._run(
            lambda: board.close_window(window, reason), t("board.done.close", window=window)
        )

    @work(group="board-action", exit_on_error=False)
    async def acknowledge_alarm(self, alarm_id: int, window: str) -> None:
        assert self.board is not None
        board = self.board
        await self._run(
            lambda: board.acknowledge_alarm(alarm_id), t("board.done.acknowledge", window=window)
        )

    @work(exclusive=True, group="board-reload", exit_on_error=False)
    async def reload_board(self) -> None:
        assert self.board is not None
        await self.board.stop()
        self.follow_board()

    @on(Done)
    def _done(self, message: Done) -> None:
        self.notify(message.note, severity=message.severity)
        if self.state is not None:
            self.state.dirty.add("alerts")
