"""Provides `MainScreen`: the current visitor, the live work list and the status bar.

Every action is a key (see `BINDINGS`); the parts with a job do the work: `TicketActions` (call,
start, finish, transfer…), `VisitorCase` (the visitor's case, the reveal), `WindowActions`
(pause, alarm). Their workers post `Changed` when done. The event stream runs in its own worker
and only marks the list dirty; a 4 Hz timer repaints what changed, so a flood of events costs a
few repaints a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal

from api_client.event_stream import ConnectionState
from api_client.models import Case, Event
from screens.base import DeskScreen
from screens.bindings import named_binding
from screens.case import CaseScreen
from screens.main.changed import Changed
from screens.main.ticket_actions import TicketActions
from screens.main.visitor_case import VisitorCase
from screens.main.window_actions import WindowActions
from screens.merge import (
    MergeScreen,
    ask_merge_history,
    merge_bindings,
    open_merge_candidates,
)
from screens.widgets.banners import OfflineBanner, UndoBar
from screens.widgets.key_bar import KeyBar
from screens.widgets.status_bar import StatusBar
from screens.widgets.visitor_panel import VisitorPanel
from screens.widgets.work_list import WorkListTable, arrival_order, freeze_long_lived
from workbench.i18n import t
from workbench.merging import MergeSubject
from workbench.store import Snapshot

__all__ = ["MainScreen"]


class MainScreen(DeskScreen):
    """The clerk's main screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        named_binding("f5", "call_next", "call_next"),
        named_binding("s", "start", "start"),
        named_binding("f", "finish", "finish"),
        named_binding("r", "recall", "recall"),
        named_binding("x", "no_show", "no_show"),
        named_binding("p", "park", "park"),
        named_binding("t", "transfer", "transfer"),
        named_binding("w", "walk_in", "walk_in"),
        named_binding("o", "claim_case", "claim_case"),
        named_binding("n", "open_case", "open_case"),
        # n when the key bar has no room for it (a called visitor) or nobody is served: still
        # opens the case, or says why it cannot
        named_binding(
            "n", "open_case_anyway", "open_case", show=False, binding_id="open-case-anyway"
        ),
        named_binding(
            "c", "call_selected", "call_selected", show=False, tooltip="tip.call_or_resume"
        ),
        named_binding("e", "resume_ticket", "resume_ticket", show=False),
        named_binding("v", "reveal", "reveal"),
        named_binding("z", "pause", "pause"),
        named_binding("f12", "alarm", "alarm"),
        *merge_bindings(candidates="m", history="h"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._dirty = True
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield OfflineBanner(id="offline-banner")
        with Horizontal(id="main-body"):
            yield VisitorPanel(self.service, id="visitor")
            yield WorkListTable(self.service, id="work-list")
        yield UndoBar(self.service, id="undo-bar")
        yield StatusBar(self.service.clock, id="status-bar")
        yield KeyBar()
        yield TicketActions()
        yield VisitorCase()
        yield WindowActions()

    def on_mount(self) -> None:
        table = self.query_one(WorkListTable)
        table.border_title = t("list.title")
        table.focus()
        session = self.service.session
        if session is not None:
            self._unsubscribe = session.store.subscribe(self._store_changed)
            self._show_snapshot(session.store.snapshot)
        self.set_interval(0.25, self._repaint)
        self.set_interval(1.0, self._tick)
        self.load_work_list()
        self.follow_events()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def translate(self) -> None:
        self.query_one(WorkListTable).translate()
        self.query_one(WorkListTable).border_title = t("list.title")
        self.query_one(VisitorPanel).translate()
        for widget in (StatusBar, OfflineBanner, UndoBar, KeyBar):
            self.query_one(widget).refresh()
        self.query_one(KeyBar).render_keys()

    # -- showing -------------------------------------------------------------------------

    @property
    def table(self) -> WorkListTable:
        return self.query_one(WorkListTable)

    def _store_changed(self, old: Snapshot, new: Snapshot) -> None:
        if old.connection != new.connection or old.outbox != new.outbox or old.me != new.me:
            self._show_snapshot(new)
        if old.current_ticket != new.current_ticket or old.current_case != new.current_case:
            self._dirty = True

    def _show_snapshot(self, snap: Snapshot) -> None:
        bar = self.query_one(StatusBar)
        if snap.me is not None:
            bar.user = snap.me.display_name
            bar.window = snap.me.window or "-"
        connection = self.service.connection
        bar.connection = connection.value
        bar.outbox = snap.outbox.pending
        bar.conflicts = snap.outbox.conflicts
        banner = self.query_one(OfflineBanner)
        banner.pending = snap.outbox.pending
        banner.offline = connection is ConnectionState.OFFLINE or snap.outbox.blocked == "offline"
        self.refresh_bindings()

    def _repaint(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.table.sync(arrival_order(self.service.worklist.ordered()))
        panel = self.query_one(VisitorPanel)
        panel.ticket = self.service.current_ticket
        panel.case = self._visitor_case()
        window = self.service.windows.get(self.service.window or "")
        panel.pause_reason = (
            window.pause_reason or "-" if window and window.state == "paused" else None
        )
        self.query_one(StatusBar).paused = self.service.paused
        self.refresh_bindings()

    def _tick(self) -> None:
        ticket = self.service.current_ticket
        if ticket is not None and ticket.status == "called":
            self.refresh_bindings()
        if self.service.clock().second % 15 == 0:
            self.table.sync(arrival_order(self.service.worklist.ordered()), force=False)
        self._show_snapshot(self.service.session.store.snapshot) if self.service.session else None

    def _visitor_case(self) -> Case | None:
        """The case of the visitor in hand, if it is open on this desk.

        A case the clerk has left (a claimed online case, the previous visitor's) is not
        shown beside "No visitor" or beside another visitor: the work list reopens it."""
        ticket = self.service.current_ticket
        snap = self.service.session.store.snapshot if self.service.session else None
        case = snap.current_case if snap is not None else None
        if ticket is None or case is None or case.ticket_id != ticket.id:
            return None
        return case

    def _revealed(self) -> bool:
        return self.is_mounted and self.query_one(VisitorPanel).revealed is not None

    def forget_personal_data(self) -> None:
        self.query_one(VisitorPanel).revealed = None

    def binding_label(self, binding: Binding) -> str | None:
        if binding.action == "recall":
            wait = self.service.recall_wait()
            if wait > 0:
                return t("key.recall_wait", seconds=int(wait + 0.999))
        if binding.action == "pause" and self.service.paused:
            return t("key.resume_window")
        if binding.action == "reveal" and self._revealed():
            return t("key.hide_id")
        return None

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        self._dirty = True
        self._repaint()
        if message.note:
            self.notify(message.note, severity=message.severity)

    # -- which actions make sense now ----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        ticket = self.service.current_ticket
        status = ticket.status if ticket is not None else None
        selected = self.table.selected if self.is_mounted else None
        if action == "recall":
            if status != "called":
                return False
            return None if self.service.recall_wait() > 0 else True
        if action in ("start", "no_show"):
            return status == "called"
        if action in ("finish", "open_case"):
            return status == "serving"
        if action in ("park", "transfer"):
            return status in ("called", "serving")
        if action == "call_selected":
            return True  # always answers: calls, resumes, or says why not (and what to press)
        if action == "resume_ticket":
            return (
                selected is not None and selected.kind == "ticket" and selected.status == "parked"
            )
        if action == "merge_candidates":
            return self._merge_subject() is not None
        if action == "reveal":
            return ticket is not None
        return True

    # -- the actions ---------------------------------------------------------------------

    @property
    def tickets(self) -> TicketActions:
        return self.query_one(TicketActions)

    def action_call_next(self) -> None:
        self.tickets.call_next_visitor()

    def action_call_selected(self) -> None:
        """c: call the waiting ticket under the cursor, take back a parked one, or say why the
        row cannot be called (a case, a ticket already called or served, an empty list)."""
        self.tickets.call_row(self.table.selected)

    def action_resume_ticket(self) -> None:
        row = self.table.selected
        if row is not None and row.kind == "ticket":
            self.tickets.ticket_action(row.id, "resume")

    def action_start(self) -> None:
        self.tickets.act("start")

    def action_recall(self) -> None:
        self.tickets.recall()

    def action_no_show(self) -> None:
        self.tickets.no_show()

    def action_park(self) -> None:
        self.tickets.act("park")

    def action_finish(self) -> None:
        self.tickets.finish()

    def action_transfer(self) -> None:
        self.tickets.transfer()

    def action_walk_in(self) -> None:
        self.tickets.choose_walk_in()

    def action_claim_case(self) -> None:
        self.tickets.claim_case()

    def action_open_case_anyway(self) -> None:
        self.action_open_case()

    def action_open_case(self) -> None:
        ticket = self.service.current_ticket
        if ticket is None:
            self.notify(t("open_case.no_visitor"), severity="warning")
            return
        self.query_one(VisitorCase).open(ticket)

    def action_reveal(self) -> None:
        panel = self.query_one(VisitorPanel)
        if panel.revealed is not None:
            panel.revealed = None
            self.refresh_bindings()
            self.notify(t("done.masked"))
            return
        ticket = self.service.current_ticket
        if ticket is None:
            return
        if ticket.applicant is not None:
            self.query_one(VisitorCase).reveal("ticket", ticket.id)
        elif (case := self._visitor_case()) is not None:
            self.query_one(VisitorCase).reveal("case", case.id)
        else:
            self.notify(t("error.no_id_known", number=ticket.number), severity="warning")

    def action_pause(self) -> None:
        self.query_one(WindowActions).pause_or_resume()

    def action_alarm(self) -> None:
        self.query_one(WindowActions).alarm()

    def _merge_subject(self) -> MergeSubject | None:
        return MergeSubject.of(self.service.current_ticket, self._visitor_case())

    def action_merge_candidates(self) -> None:
        if (subject := self._merge_subject()) is not None:
            open_merge_candidates(self, subject)

    def action_merge_history(self) -> None:
        row = self.table.selected
        ask_merge_history(self, row.number if row is not None and row.kind == "case" else "")

    @on(VisitorCase.Revealed)
    def _revealed_data(self, message: VisitorCase.Revealed) -> None:
        panel = self.query_one(VisitorPanel)
        panel.revealed_subject = message.subject
        panel.revealed = message.data

    @on(WindowActions.AlarmRaised)
    def _alarm_raised(self, message: WindowActions.AlarmRaised) -> None:
        self.query_one(VisitorPanel).alarm_at = message.at

    @on(WorkListTable.Chosen)
    def _row_chosen(self, message: WorkListTable.Chosen) -> None:
        row = message.row
        if row.kind == "case":
            self.app.push_screen(CaseScreen(row.id))
        else:
            self.tickets.call_row(row)

    @on(WorkListTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    # -- workers -------------------------------------------------------------------------

    @on(MergeScreen.Closed)
    def _merge_closed(self, message: MergeScreen.Closed) -> None:
        message.stop()
        self.app.push_screen(CaseScreen(message.result.survivor.id))

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load_work_list(self) -> None:
        table = self.table
        table.loading = not table.order  # a reload keeps the list on screen
        try:
            await self.service.load_work_list()
        finally:
            table.loading = False
        freeze_long_lived()
        self.post_message(Changed())

    @work(exclusive=True, group="events", exit_on_error=False)
    async def follow_events(self) -> None:
        await self.service.follow(self._event)

    def _event(self, event: Event) -> None:
        self._dirty = True
        if event.type == "window.paused" or event.type == "window.resumed":
            window = self.service.windows.get(event.subject_id)
            if window is not None:
                self.service.windows[window.code] = window.model_copy(
                    update={
                        "state": event.payload.get("state"),
                        "pause_reason": event.payload.get("reason"),
                    }
                )
