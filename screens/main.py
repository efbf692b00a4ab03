"""Provides `MainScreen`: the current visitor, the live work list and the status bar.

Every action is a key (see `BINDINGS`); every call to the hall runs in a named worker that posts
`MainScreen.Changed` when done. The event stream runs in its own worker and only marks the list
dirty; a 4 Hz timer repaints what changed, so a flood of events costs a few repaints a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.notifications import SeverityLevel

from api_client.errors import ValidationFailed
from api_client.event_stream import ConnectionState
from api_client.identity import normalise_resident_id
from api_client.models import Case, Event, IntakeApplicant, Ticket, TicketActionRequest
from api_client.models.catalogue import PauseRequest
from api_client.models.tickets import TicketAction
from screens.base import DeskScreen
from screens.bindings import named_binding
from screens.case import CaseScreen
from screens.dialogs import AlarmDialog, ChoiceDialog, ConfirmDialog, PromptDialog
from screens.merge import (
    MergeScreen,
    ask_merge_history,
    merge_bindings,
    open_merge_candidates,
)
from screens.widgets.banners import OfflineBanner, UndoBar
from screens.widgets.deliberate_confirm import DeliberateConfirmDialog
from screens.widgets.key_bar import KeyBar
from screens.widgets.status_bar import StatusBar
from screens.widgets.visitor_panel import VisitorPanel
from screens.widgets.work_list import WorkListTable, arrival_order, freeze_long_lived
from workbench import merging
from workbench.i18n import language, t
from workbench.merging import MergeSubject
from workbench.store import Snapshot

__all__ = ["OUTCOMES", "PAUSE_REASONS", "MainScreen"]

OUTCOMES = ("completed", "case_opened", "information_only", "referred", "incomplete", "abandoned")
PAUSE_REASONS = ("break", "meeting", "system_trouble", "other")


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

    class Changed(Message):
        """A worker finished: something may have to be shown."""

        def __init__(
            self, note: str | None = None, severity: SeverityLevel = "information"
        ) -> None:
            super().__init__()
            self.note = note
            self.severity = severity

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

    def action_call_next(self) -> None:
        ticket = self.service.current_ticket
        if ticket is not None and ticket.status == "serving":

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.call_next_ticket()

            self.app.push_screen(
                ConfirmDialog(t("confirm.call_while_serving", number=ticket.number)), confirmed
            )
            return
        self.call_next_ticket()

    def action_call_selected(self) -> None:
        """c: call the waiting ticket under the cursor, take back a parked one, or say why the
        row cannot be called (a case, a ticket already called or served, an empty list)."""
        row = self.table.selected
        if row is None:
            self.notify(t("call_selected.empty"), severity="warning")
        elif row.kind == "case":
            self.notify(t("call_selected.case", number=row.number), severity="warning")
        elif row.status == "waiting":
            self.ticket_action(row.id, "call")
        elif row.status == "parked":
            self.ticket_action(row.id, "resume")
        else:
            status = t(f"status.ticket.{row.status}")
            self.notify(
                t("call_selected.busy", number=row.number, status=status), severity="warning"
            )

    def action_resume_ticket(self) -> None:
        row = self.table.selected
        if row is not None and row.kind == "ticket":
            self.ticket_action(row.id, "resume")

    def _current_id(self) -> int | None:
        ticket = self.service.current_ticket
        return ticket.id if ticket is not None else None

    def action_start(self) -> None:
        if (ticket_id := self._current_id()) is not None:
            self.ticket_action(ticket_id, "start")

    def action_recall(self) -> None:
        wait = self.service.recall_wait()
        if wait > 0:
            self.notify(t("error.recall_too_soon", seconds=int(wait + 0.999)), severity="warning")
            return
        if (ticket_id := self._current_id()) is not None:
            self.ticket_action(ticket_id, "recall")

    def action_no_show(self) -> None:
        ticket = self.service.current_ticket
        if ticket is None:
            return
        ticket_id = ticket.id

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.ticket_action(ticket_id, "no-show")

        wait = int(self.service.recall_wait() + 0.999)
        message = t("confirm.no_show", number=ticket.number)
        if wait > 0:
            message = f"{message}\n{t('confirm.no_show_countdown', seconds=wait)}"
        dialog = DeliberateConfirmDialog(message, confirm=t("confirm.no_show_yes"), danger=True)
        self.app.push_screen(dialog, confirmed)

    def action_park(self) -> None:
        if (ticket_id := self._current_id()) is not None:
            self.ticket_action(ticket_id, "park")

    def action_finish(self) -> None:
        ticket_id = self._current_id()
        if ticket_id is None:
            return

        def chosen(outcome: str | None) -> None:
            if outcome:
                self.ticket_action(ticket_id, "finish", TicketActionRequest(outcome=outcome))

        options = [(o, t(f"outcome.{o}")) for o in OUTCOMES]
        self.app.push_screen(ChoiceDialog(t("finish.title"), options), chosen)

    def action_transfer(self) -> None:
        ticket_id = self._current_id()
        if ticket_id is None:
            return
        here = self.service.window
        zh = language() == "zh"
        options = [
            (w.code, f"{w.code}  {w.name if zh else w.name_en}")
            for w in self.service.windows.values()
            if w.code != here
        ]

        def chosen(window: str | None) -> None:
            if window:
                self.ticket_action(ticket_id, "transfer", TicketActionRequest(window=window))

        self.app.push_screen(ChoiceDialog(t("transfer.title"), options), chosen)

    def action_walk_in(self) -> None:
        window = self.service.windows.get(self.service.window or "")
        codes = window.service_items if window is not None else list(self.service.service_items)
        zh = language() == "zh"
        options = []
        for code in codes:
            item = self.service.service_items.get(code)
            options.append((code, (item.name if zh else item.name_en) if item else code))

        def chosen(item: str | None) -> None:
            if item:
                self.walk_in(item)

        self.app.push_screen(ChoiceDialog(t("walk_in.title"), options), chosen)

    def action_claim_case(self) -> None:
        self.claim_case()

    def action_open_case_anyway(self) -> None:
        self.action_open_case()

    def action_open_case(self) -> None:
        ticket = self.service.current_ticket
        if ticket is None or ticket.status not in ("called", "serving"):
            self.notify(t("open_case.no_visitor"), severity="warning")
            return
        self.open_visitor_case(ticket)

    def _ask_applicant(self, ticket: Ticket, typed: str = "") -> None:
        """Ask for the ID number and then the name of a visitor the ticket knows nothing of,
        then open the case for them."""

        def got_id(value: str | None) -> None:
            if not value:
                return
            try:
                id_number = normalise_resident_id(value)
            except ValueError:
                self.notify(t("open_case.bad_id"), severity="error")
                self._ask_applicant(ticket, value)
                return
            title = t("open_case.ask_name", number=ticket.number)
            self.app.push_screen(
                PromptDialog(title, field=(IntakeApplicant, "name")),
                lambda name: got_name(id_number, name),
            )

        def got_name(id_number: str, name: str | None) -> None:
            if name:
                applicant = IntakeApplicant(id_number=id_number, name=name)
                self.open_visitor_case(ticket, applicant)

        title = t("open_case.ask_id", number=ticket.number)
        hint = t("open_case.id_hint")
        self.app.push_screen(PromptDialog(title, placeholder=hint, value=typed), got_id)

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
            self.reveal("ticket", ticket.id)
        elif (case := self._visitor_case()) is not None:
            self.reveal("case", case.id)
        else:
            self.notify(t("error.no_id_known", number=ticket.number), severity="warning")

    def action_pause(self) -> None:
        if self.service.paused:
            self.resume_window()
            return

        def chosen(reason: str | None) -> None:
            if reason == "other":
                dialog = PromptDialog(
                    t("pause.other"), field=(PauseRequest, "reason"), overflow="cut"
                )
                self.app.push_screen(dialog, self._pause_with)
            elif reason:
                self._pause_with(t(f"pause.{reason}"))

        options = [(r, t(f"pause.{r}")) for r in PAUSE_REASONS]
        self.app.push_screen(ChoiceDialog(t("pause.title"), options), chosen)

    def _pause_with(self, reason: str | None) -> None:
        if reason:
            self.pause_window(reason)

    def _merge_subject(self) -> MergeSubject | None:
        return MergeSubject.of(self.service.current_ticket, self._visitor_case())

    def action_merge_candidates(self) -> None:
        if (subject := self._merge_subject()) is not None:
            open_merge_candidates(self, subject)

    def action_merge_history(self) -> None:
        row = self.table.selected
        ask_merge_history(self, row.number if row is not None and row.kind == "case" else "")

    def action_alarm(self) -> None:
        window = self.service.window
        if window is None:
            return

        def chosen(note: str | None) -> None:
            if note is not None:
                self.raise_alarm(note)

        self.app.push_screen(AlarmDialog(window), chosen)

    @on(WorkListTable.Chosen)
    def _row_chosen(self, message: WorkListTable.Chosen) -> None:
        row = message.row
        if row.kind == "case":
            self.app.push_screen(CaseScreen(row.id))
        elif row.status == "waiting":
            self.ticket_action(row.id, "call")
        elif row.status == "parked":
            self.ticket_action(row.id, "resume")

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
        self.post_message(self.Changed())

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

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def call_next_ticket(self) -> None:
        ticket = await self.service.call_next()
        note = t("done.called", number=ticket.number) if ticket else t("done.nobody_waits")
        self.post_message(self.Changed(note, "information" if ticket else "warning"))

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def ticket_action(
        self, ticket_id: int, action: TicketAction, body: TicketActionRequest | None = None
    ) -> None:
        ticket = await self.service.ticket_action(ticket_id, action, body)
        self.post_message(self.Changed(t(f"done.{action.replace('-', '_')}", number=ticket.number)))

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def walk_in(self, item: str) -> None:
        ticket = await self.service.walk_in(item)
        self.post_message(self.Changed(t("done.walk_in", number=ticket.number)))

    @work(exclusive=True, group="case", exit_on_error=False)
    async def claim_case(self) -> None:
        case = await self.service.claim_case()
        if case is None:
            self.post_message(self.Changed(t("done.no_case"), "warning"))
            return
        self.post_message(self.Changed(t("done.claimed", number=case.number)))
        self.app.push_screen(CaseScreen(case.id))

    @work(exclusive=True, group="case", exit_on_error=False)
    async def open_visitor_case(
        self, ticket: Ticket, applicant: IntakeApplicant | None = None
    ) -> None:
        """Open a hall case for the visitor (or find the one the ticket has) and show it."""
        subject = MergeSubject(ticket_id=ticket.id, label=ticket.number)
        try:
            case_id, opened = await merging.case_for_subject(
                self.service, subject, applicant=applicant
            )
        except ValidationFailed as error:
            if applicant is not None or not _wants_applicant(error):
                raise
            self._ask_applicant(ticket)
            return
        if opened is not None:
            note = t("open_case.opened", case=opened.number, number=ticket.number)
        else:
            note = t("open_case.existing", number=ticket.number)
        self.post_message(self.Changed(note))
        self.app.push_screen(CaseScreen(case_id))

    @work(exclusive=True, group="reveal", exit_on_error=False)
    async def reveal(self, kind: str, subject_id: int) -> None:
        revealed = await self.service.reveal(kind, subject_id)
        panel = self.query_one(VisitorPanel)
        panel.revealed_subject = revealed.subject
        panel.revealed = revealed.data
        self.post_message(self.Changed(t("done.revealed")))

    @work(exclusive=True, group="window", exit_on_error=False)
    async def pause_window(self, reason: str) -> None:
        paused = await self.service.pause(reason)
        self.post_message(self.Changed(t("done.paused", reason=paused.result.pause_reason)))
        if paused.cut:
            self.post_message(self.Changed(_cut_note(t("pause.cut_what"), paused.cut), "warning"))

    @work(exclusive=True, group="window", exit_on_error=False)
    async def resume_window(self) -> None:
        await self.service.resume_window()
        self.post_message(self.Changed(t("done.resumed")))

    @work(exclusive=True, group="alarm", exit_on_error=False)
    async def raise_alarm(self, note: str) -> None:
        sent = await self.service.raise_alarm(note or None)
        now = self.service.clock().astimezone()
        self.query_one(VisitorPanel).alarm_at = now.strftime("%H:%M:%S")
        key = "done.alarm_sent" if sent.result else "done.alarm_queued"
        self.post_message(self.Changed(t(key), "warning"))
        if sent.cut:
            self.post_message(self.Changed(_cut_note(t("alarm.cut_what"), sent.cut), "warning"))


def _cut_note(what: str, cut: str) -> str:
    """Tells the clerk which end of their text did not fit (its last words, if long)."""
    tail = cut if len(cut) <= 60 else "…" + cut[-60:]
    return t("done.cut", what=what, count=len(cut), tail=tail)


def _wants_applicant(error: ValidationFailed) -> bool:
    """Whether the server refused a hall case because the visitor's applicant is unknown."""
    return any("applicant" in complaint.field.split(".") for complaint in error.field_errors)
