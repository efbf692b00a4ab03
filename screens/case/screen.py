"""Provides `CaseScreen`: one case, for verification and decision, made of widgets with one job
each (header and guideline, checklist, detail, decision flows, e-licences, notices).

The widgets post typed messages (`Checklist.MarkRequested`, `DecisionFlows.Queued`,
`ELicences.Chosen`); the screen owns the case and what is on its way, and its workers post
their results back as messages. Checklist marks and decisions go through the outbox (decisions
held for the undo window), so the clerk can work on while offline; a change refused because
someone else changed the case is shown with what changed, and the clerk chooses (see
`ConflictDialog`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message

from api_client.models import Case, ChecklistRow, MaterialVerification
from screens.base import DeskScreen
from screens.bindings import named_binding
from screens.case.checklist import Checklist
from screens.case.decisions import DecisionFlows
from screens.case.detail import CaseDetail
from screens.case.e_licences import ELicences
from screens.case.header import CaseHeader, Guideline
from screens.case.notices import Notices
from screens.case.refusals import Refusals
from screens.case_text import unavailable_decisions
from screens.merge import MergeScreen, merge_bindings, open_merge_candidates, open_merge_history
from screens.widgets.banners import OfflineBanner, UndoBar
from screens.widgets.key_bar import KeyBar
from workbench.i18n import t
from workbench.merging import MergeSubject
from workbench.outbox import EntryState, OutboxEntry
from workbench.services import PersonalData
from workbench.store import Snapshot

__all__ = ["CaseScreen", "pending_marks"]


def pending_marks(entries: Iterable[OutboxEntry], case_id: int) -> dict[str, str]:
    """Material → status of this case's checklist marks still waiting in the outbox (the last
    one of a material wins; refused ones are not among them: the server did not take them)."""
    prefix = f"/api/v1/cases/{int(case_id)}/materials/"
    marks: dict[str, str] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.state is not EntryState.PENDING or not entry.path.startswith(prefix):
            continue
        try:
            body = json.loads(entry.body or "{}")
        except ValueError:
            continue
        status = body.get("status") if isinstance(body, dict) else None
        if isinstance(status, str):
            marks[entry.path.removeprefix(prefix)] = status
    return marks


class CaseScreen(DeskScreen):
    """One case, for verification and decision."""

    BINDINGS: ClassVar[list[BindingType]] = [
        named_binding("escape", "back", "back"),
        named_binding("1", "mark('original')", "mark_original"),
        named_binding("2", "mark('copy')", "mark_copy"),
        named_binding("3", "mark('upload')", "mark_upload", show=False),
        named_binding("l", "e_licence", "e_licence"),
        named_binding("m", "mark('missing')", "mark_missing"),
        named_binding("o", "mark('owed')", "mark_owed"),
        named_binding("0", "mark('not_applicable')", "mark_na", show=False),
        named_binding("n", "note", "note", show=False),
        named_binding("i", "facts", "facts"),
        named_binding("d", "decide", "decide"),
        named_binding("r", "supplement_received", "supplement_received"),
        named_binding("v", "reveal", "reveal", tooltip="case_guard.tip_reveal"),
        named_binding("f7", "save_notice", "save_notice", show=False),
        named_binding("f8", "print_notice", "print_notice", show=False),
        *merge_bindings(candidates="M", history="h"),
    ]

    class Loaded(Message):
        def __init__(self, case: Case) -> None:
            super().__init__()
            self.case = case

    class Revealed(Message):
        def __init__(self, data: PersonalData) -> None:
            super().__init__()
            self.data = data

    class MarksSettled(Message):
        """The outbox answered: the marks still on their way, and the refused ones."""

        def __init__(self, overlay: dict[str, str], refused: set[int]) -> None:
            super().__init__()
            self.overlay = overlay
            self.refused = refused

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.case: Case | None = None
        self.local: dict[str, str] = {}
        """Marks on their way (material → status), shown with ⧗ until the server has them."""
        self.revealed: PersonalData | None = None
        """What the clerk revealed with `v`: only this is ever shown unmasked."""
        self._unsubscribe: Callable[[], None] | None = None
        self._sending: list[tuple[str, str]] = []
        """Marks queued on this screen but not yet written to the outbox (material, status)."""
        self._refused: set[int] = set()
        """This case's outbox entries the server refused, as last seen."""
        self._last_key = 0.0

    def compose(self) -> ComposeResult:
        yield OfflineBanner(id="offline-banner")
        yield CaseHeader(id="case-header")
        with Horizontal(id="case-body"):
            yield Guideline(id="guideline")
            with Vertical(id="case-main"):
                yield Checklist(id="checklist")
                yield CaseDetail(id="case-detail")
        yield UndoBar(self.service, id="undo-bar")
        yield KeyBar()
        yield DecisionFlows()
        yield ELicences(self.case_id)
        yield Notices()
        yield Refusals(self.case_id, lambda: self._last_key)

    @property
    def checklist(self) -> Checklist:
        return self.query_one(Checklist)

    def on_mount(self) -> None:
        self.checklist.focus()
        session = self.service.session
        if session is not None:
            self._unsubscribe = session.store.subscribe(self._store_changed)
            self._show_connection(session.store.snapshot)
        self.load_case()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _store_changed(self, old: Snapshot, new: Snapshot) -> None:
        case = new.current_case
        fresh = case is not None and case.id == self.case_id and case != old.current_case
        if fresh and case is not None and (self.case is None or case.version >= self.case.version):
            self.case = case
            self.local = {material: status for material, status in self._sending}
            self.show_case()
            self.reconcile_marks()  # marks still waiting behind this answer keep their ⧗
        if old.outbox != new.outbox or old.connection != new.connection:
            self._show_connection(new)
        if old.outbox != new.outbox:
            self.reconcile_marks()
        if new.outbox.conflicts > old.outbox.conflicts:
            self.query_one(Refusals).check_conflicts()

    def _show_connection(self, snap: Snapshot) -> None:
        banner = self.query_one(OfflineBanner)
        banner.pending = snap.outbox.pending
        banner.offline = snap.connection.value == "offline" or snap.outbox.blocked == "offline"

    # -- showing -------------------------------------------------------------------------

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.case = message.case
        self.show_case()

    def show_case(self) -> None:
        case = self.case
        if case is None:
            return
        item = self.service.service_items.get(case.service_item)
        e_licences = self.query_one(ELicences)
        e_licences.revealed = self.revealed
        self.query_one(DecisionFlows).case = case
        self.query_one(Guideline).show(item)
        self.query_one(CaseHeader).show(case, item, self.revealed)
        self.checklist.show(case, self.local, e_licences.holder_id)
        self.query_one(CaseDetail).show(case)
        self.refresh_bindings()

    def on_resize(self, event: events.Resize) -> None:
        if self.case is not None:
            self.call_after_refresh(self.checklist.refill)

    def translate(self) -> None:
        self.query_one(Guideline).translate()
        self.checklist.translate()
        self.show_case()
        self.query_one(KeyBar).render_keys()

    # -- checklist -----------------------------------------------------------------------

    def action_mark(self, mark: str) -> None:
        self.checklist.mark(mark)

    def action_note(self) -> None:
        self.checklist.note()

    def action_facts(self) -> None:
        """Type the facts printed on the selected material (the checks run on them)."""
        self.checklist.facts()

    def action_e_licence(self) -> None:
        row = self.checklist.selected_row()
        if row is not None:
            self.query_one(ELicences).look_up_e_licence(row)

    @on(Checklist.MarkRequested)
    def _mark_requested(self, message: Checklist.MarkRequested) -> None:
        self._queue_mark(message.row, message.verification, advance=False)

    @on(ELicences.Chosen)
    def _licence_chosen(self, message: ELicences.Chosen) -> None:
        self._queue_mark(message.row, message.verification)

    def _queue_mark(
        self, row: ChecklistRow, verification: MaterialVerification, *, advance: bool = True
    ) -> None:
        material = row.material
        self.local[material] = verification.status
        self._sending.append((material, verification.status))
        if self.case is not None:
            self.checklist.show(self.case, self.local, self.query_one(ELicences).holder_id)
            if advance:
                self.checklist.advance()
        self.send_mark(material, verification)

    # -- decisions -----------------------------------------------------------------------

    def unavailable(self) -> dict[str, str]:
        """Decisions the server would refuse now, with why (marks on their way included)."""
        return unavailable_decisions(self.case, self.local) if self.case is not None else {}

    def action_decide(self) -> None:
        self.query_one(DecisionFlows).choose(self.unavailable())

    def action_supplement_received(self) -> None:
        if self.case is not None:
            self.query_one(DecisionFlows).start("supplement_received")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "supplement_received":
            awaiting = self.case is not None and self.case.status == "supplement_requested"
            return True if awaiting else None
        return True

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        if self.case is None:
            return []
        return self.query_one(DecisionFlows).commands(self.unavailable())

    # -- reveal, notices, merges ---------------------------------------------------------

    def forget_personal_data(self) -> None:
        self.revealed = None
        self.query_one(ELicences).forget()
        self.show_case()

    def action_reveal(self) -> None:
        """v: reveal the applicant's ID number and name (audited), or mask them again."""
        if self.revealed is None:
            self.reveal()
            return
        self.revealed = None
        self.show_case()
        self.notify(t("done.masked"))

    @on(Revealed)
    def _revealed(self, message: Revealed) -> None:
        self.revealed = message.data
        self.show_case()

    def binding_label(self, binding: Binding) -> str | None:
        """The footer's live label: "Hide ID" while the ID number is shown."""
        if binding.action == "reveal" and self.revealed is not None:
            return t("key.hide_id")
        return None

    def action_save_notice(self) -> None:
        self.query_one(Notices).save(self.case, print_it=False)

    def action_print_notice(self) -> None:
        self.query_one(Notices).save(self.case, print_it=True)

    def action_merge_candidates(self) -> None:
        if self.case is not None:
            subject = MergeSubject(case_id=self.case.id, label=self.case.number)
            open_merge_candidates(self, subject)

    def action_merge_history(self) -> None:
        label = self.case.number if self.case is not None else None
        open_merge_history(self, self.case_id, label, on_undone=self.load_case)

    @on(MergeScreen.Closed)
    def _merge_closed(self, message: MergeScreen.Closed) -> None:
        message.stop()
        result = message.result
        survivor = CaseScreen(result.survivor.id)
        if self.case_id in (result.survivor.id, result.absorbed.id):
            self.app.switch_screen(survivor)
        else:
            self.app.push_screen(survivor)

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- workers -------------------------------------------------------------------------

    @work(exclusive=True, group="case-load", exit_on_error=False)
    async def load_case(self) -> None:
        body = self.query_one("#case-body")
        body.loading = self.case is None  # a reload keeps the case on screen
        try:
            case = await self.service.open_case(self.case_id)
        finally:
            if body.is_attached:
                body.loading = False
        self.post_message(self.Loaded(case))

    @work(group="case-mark", exit_on_error=False)
    async def send_mark(self, material: str, verification: MaterialVerification) -> None:
        try:
            assert self.case is not None
            await self.service.verify_material(self.case, material, verification)
        finally:
            with contextlib.suppress(ValueError):
                self._sending.remove((material, verification.status))
        self.reconcile_marks()

    @work(exclusive=True, group="case-marks", exit_on_error=False)
    async def reconcile_marks(self) -> None:
        entries = await self.service.outbox_entries()
        mine = [e for e in entries if e.ordering_key == f"case:{self.case_id}"]
        refused = {e.id for e in mine if e.state is EntryState.CONFLICT}
        self.post_message(self.MarksSettled(pending_marks(mine, self.case_id), refused))

    @on(MarksSettled)
    def _marks_settled(self, message: MarksSettled) -> None:
        """Show only the marks still on their way: one the server refused (or the clerk
        dropped) goes back to what the server has, at once, and the case is fetched again
        (its version too: the refused change never counted)."""
        overlay = dict(message.overlay)
        overlay.update(self._sending)
        settled = message.refused != self._refused
        self._refused = message.refused
        if overlay != self.local:
            self.local = overlay
            self.show_case()
        if settled:
            self.load_case()

    @work(exclusive=True, group="reveal", exit_on_error=False)
    async def reveal(self) -> None:
        revealed = await self.service.reveal("case", self.case_id)
        self.post_message(self.Revealed(revealed.data))

    @on(Refusals.Settled)
    def _refusal_settled(self, _message: Refusals.Settled) -> None:
        self.load_case()

    def on_screen_resume(self) -> None:
        self.query_one(Refusals).offer()

    def on_key(self, event: events.Key) -> None:
        self._last_key = time.monotonic()
