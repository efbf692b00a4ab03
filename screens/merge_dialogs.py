"""Provides the merge dialogs: `MergeCandidatesDialog` (the cases that may be the same matter,
best first, each with why it matched) and `MergeHistoryDialog` (the merges a case took part in;
a supervisor undoes one from here). Both fetch in named workers and show refusals inline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.events import Key
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from api_client.errors import ApiError
from api_client.models import MergeCandidate, MergeRecord
from screens.base import DeskModal
from screens.dialogs import ConfirmDialog
from screens.errors import describe_error
from screens.merge_text import candidate_lines, record_line
from screens.stylesheets import beside
from workbench import merging
from workbench.i18n import t
from workbench.merging import MergeSubject

__all__ = ["CandidatePick", "MergeCandidatesDialog", "MergeHistoryDialog"]

CLOSE: BindingType = Binding(
    "escape", "close", "merge.key.close", tooltip="merge.tip.close", id="merge-dialog-close"
)


@dataclass(frozen=True)
class CandidatePick:
    """The candidate the clerk chose, and the subject's own case when it has one."""

    other_case: int
    this_case: int | None


class MergeCandidatesDialog(DeskModal[CandidatePick | None]):
    """The open cases that may be the same matter as the visitor's or the case's."""

    DEFAULT_CSS = beside(__file__, "merge_candidates_dialog")
    BINDINGS: ClassVar[list[BindingType]] = [CLOSE]

    def __init__(self, subject: MergeSubject) -> None:
        super().__init__()
        self.subject = subject
        self.items: list[MergeCandidate] = []
        self.this_case: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(
                t("merge.candidates_title", what=self.subject.label), classes="dialog-title"
            )
            yield Static(t("merge.looking"), id="merge-status")
            yield OptionList(id="merge-candidates")
            yield Static("", id="merge-hint")
            yield Label("", id="dialog-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(exclusive=True, group="merge-candidates", exit_on_error=False)
    async def load(self) -> None:
        try:
            found = await merging.candidates(self.service, self.subject)
        except ApiError as error:
            self.query_one("#merge-status", Static).update(describe_error(error))
            return
        self.this_case = found.case
        self.items = list(found.items)
        self._show()

    def _show(self) -> None:
        status = self.query_one("#merge-status", Static)
        options = self.query_one(OptionList)
        options.clear_options()
        if not self.items:
            status.update(t("merge.none_found"))
            return
        status.update(t("merge.found", n=len(self.items)))
        for index, candidate in enumerate(self.items, start=1):
            first, second = candidate_lines(candidate)
            prompt = Content.assemble(
                (f"{index}  " if index < 10 else "   ", "bold"),
                (first, "bold" if not candidate.blocked else "dim"),
                "\n   ",
                (second, "$text-muted" if not candidate.blocked else "dim $warning"),
            )
            options.add_option(
                Option(prompt, id=str(candidate.case.id), disabled=candidate.blocked is not None)
            )
        hint = t("merge.hint_choose")
        if self.this_case is None and self.subject.ticket_id is not None:
            hint += "\n" + t("merge.hint_opens_case", ticket=self.subject.label)
        self.query_one("#merge-hint", Static).update(hint)
        options.highlighted = next((i for i, c in enumerate(self.items) if c.blocked is None), None)

    def _pick(self, candidate: MergeCandidate) -> None:
        if candidate.blocked is not None:
            self.query_one("#dialog-error", Label).update(
                t("merge.blocked", reason=candidate.blocked)
            )
            return
        self.dismiss(CandidatePick(other_case=candidate.case.id, this_case=self.this_case))

    def on_key(self, event: Key) -> None:
        key = event.character or ""
        if key.isdigit() and 1 <= int(key) <= min(9, len(self.items)):
            event.stop()
            self._pick(self.items[int(key) - 1])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = next((c for c in self.items if str(c.case.id) == event.option.id), None)
        if chosen is not None:
            self._pick(chosen)

    def action_close(self) -> None:
        self.dismiss(None)


class MergeHistoryDialog(DeskModal[bool]):
    """Every merge a case took part in; Enter undoes the highlighted one (supervisors only).

    Dismissed with True when a merge was undone, so the caller can show both cases anew. The
    supervisor's board opens it the same way: `push_screen(MergeHistoryDialog(case_id))`.
    """

    DEFAULT_CSS = beside(__file__, "merge_history_dialog")
    BINDINGS: ClassVar[list[BindingType]] = [CLOSE]

    def __init__(self, case_id: int, label: str | None = None) -> None:
        super().__init__()
        self.case_id = case_id
        self.label = label or str(case_id)
        self.records: list[MergeRecord] = []
        self.undone = False

    @property
    def supervisor(self) -> bool:
        me = self.service.me
        return me is not None and me.role in ("supervisor", "admin")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(t("merge.history_title", what=self.label), classes="dialog-title")
            yield Static(t("merge.loading_history"), id="merge-status")
            yield OptionList(id="merge-history")
            yield Static(
                t("merge.hint_unmerge") if self.supervisor else t("merge.hint_clerk_history"),
                id="merge-hint",
            )
            yield Label("", id="merge-done")
            yield Label("", id="dialog-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(exclusive=True, group="merge-history", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.records = await merging.merge_history(self.service, self.case_id)
        except ApiError as error:
            self.query_one("#merge-status", Static).update(describe_error(error))
            return
        self._show()

    def _show(self) -> None:
        status = self.query_one("#merge-status", Static)
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        status.update(t("merge.no_history") if not self.records else "")
        status.display = not self.records
        for record in self.records:
            style = "" if record.state == "active" else "dim"
            options.add_option(
                Option(Content.styled(record_line(record), style), id=str(record.id))
            )
        if self.records:
            options.highlighted = min(highlighted or 0, len(self.records) - 1)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        record = next((r for r in self.records if str(r.id) == event.option.id), None)
        if record is not None:
            self.ask_unmerge(record)

    def ask_unmerge(self, record: MergeRecord) -> None:
        error = self.query_one("#dialog-error", Label)
        if not self.supervisor:
            error.update(t("merge.only_supervisor"))
            return
        if record.state == "undone":
            error.update(t("merge.already_undone", id=record.id))
            return
        if not record.can_unmerge:
            error.update(t("merge.cannot_unmerge", reason=record.unmerge_blocked or "-"))
            return
        error.update("")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.send_unmerge(record.id)

        message = t(
            "merge.confirm_unmerge",
            absorbed=record.absorbed.number,
            survivor=record.survivor.number,
        )
        self.app.push_screen(
            ConfirmDialog(message, confirm=t("merge.do_unmerge"), danger=True), confirmed
        )

    @work(exclusive=True, group="merge-unmerge", exit_on_error=False)
    async def send_unmerge(self, merge_id: int) -> None:
        try:
            result = await merging.unmerge(self.service, merge_id)
        except ApiError as error:
            message = describe_error(error)
            self.query_one("#dialog-error", Label).update(message)
            self.notify(message, title=t("merge.unmerge_failed"), severity="error", timeout=8)
            self.load()
            return
        self.undone = True
        done = t("merge.unmerged", absorbed=result.absorbed.number, survivor=result.survivor.number)
        self.query_one("#merge-done", Label).update(done)
        self.notify(done)
        self.load()

    def action_close(self) -> None:
        self.dismiss(self.undone)
