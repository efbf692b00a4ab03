"""Provides `MergeScreen`: two cases side by side, row by row, and the merge itself.

The rows are the applicant's fields and then every material either case holds; rows whose two
sides differ are highlighted. On a highlighted row 1 (or ←) keeps the left case's side and 2 (or
→) the right one's: for a material, whose item survives (the default, from the server's preview,
is the verified one, then the newer); for an applicant field, whose value is right — every
differing field must be chosen before M merges. Different ID numbers need an explicit
confirmation. `s` swaps which case survives.

The rows are built by `screens.merge.rows` and shown by `MergeTable`; the screen keeps the
preview and the choices. The entry points the other screens call are in `screens.merge.entry`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Label, Static

from api_client.errors import ApiError, Conflict, PreconditionFailed, ValidationFailed
from api_client.models import MergePreview, MergeResult
from api_client.models.merges import ApplicantField, MergeRequest, MergeSide
from screens.base import DeskScreen
from screens.bindings import MERGE, named_binding
from screens.dialogs import ConfirmDialog, PromptDialog
from screens.errors import describe_error
from screens.merge.rows import Row, merge_rows
from screens.merge.table import MergeTable
from screens.merge_text import case_label
from screens.stylesheets import beside
from screens.widgets.key_bar import KeyBar
from workbench import merging
from workbench.i18n import language, t
from workbench.merging import MergeChoices, MergeSubject

__all__ = ["MergeScreen"]

Survivor = Literal["this", "other"]


class MergeScreen(DeskScreen):
    """Compare two cases and merge them (`this_case` is the visitor's or the open case)."""

    DEFAULT_CSS = beside(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        named_binding("escape", "back", "back", table=MERGE),
        named_binding("1", "keep('survivor')", "keep_left", table=MERGE),
        named_binding("2", "keep('absorbed')", "keep_right", table=MERGE),
        named_binding(
            "left", "keep('survivor')", "keep_left_arrow", table=MERGE, show=False, priority=True
        ),
        named_binding(
            "right", "keep('absorbed')", "keep_right_arrow", table=MERGE, show=False, priority=True
        ),
        named_binding("s", "swap", "swap", table=MERGE),
        named_binding("n", "note", "note", table=MERGE),
        named_binding("M", "merge", "merge", table=MERGE),
    ]

    class Previewed(Message):
        def __init__(self, preview: MergePreview, this_case: int) -> None:
            super().__init__()
            self.preview = preview
            self.this_case = this_case

    class PreviewFailed(Message):
        """The preview could not be read (`this_case`: the case in hand, when it is known)."""

        def __init__(self, error: ApiError, this_case: int | None) -> None:
            super().__init__()
            self.error = error
            self.this_case = this_case

    class Merged(Message):
        def __init__(self, result: MergeResult) -> None:
            super().__init__()
            self.result = result

    class MergeFailed(Message):
        """The server refused the merge, or could not be reached."""

        def __init__(self, error: ApiError) -> None:
            super().__init__()
            self.error = error

    class Closed(Message):
        """Posted to the screen below once the merge is done and this screen closed: that
        screen opens the surviving case (a case screen of either case gives way to it)."""

        def __init__(self, result: MergeResult) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self,
        subject: MergeSubject,
        other_case: int,
        *,
        this_case: int | None = None,
        preview: MergePreview | None = None,
    ) -> None:
        super().__init__()
        self.subject = subject
        self.other_case = other_case
        self.this_case = this_case if this_case is not None else subject.case_id
        self.survivor: Survivor = "this"
        self.preview = preview
        self.choices: MergeChoices | None = MergeChoices(preview) if preview else None
        self.rows: list[Row] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static(t("merge.loading"), id="merge-header")
        yield MergeTable(id="merge-rows")
        yield Static("", id="merge-summary")
        yield Label("", id="merge-error", classes="form-error")
        yield KeyBar()

    @property
    def table(self) -> MergeTable:
        return self.query_one(MergeTable)

    def on_mount(self) -> None:
        table = self.table
        table.set_up()
        table.focus()
        if self.choices is not None:
            self.show()
        else:
            self.load()

    def translate(self) -> None:
        self.show()
        self.query_one(KeyBar).render_keys()

    # -- showing -------------------------------------------------------------------------

    @on(Previewed)
    def _previewed(self, message: Previewed) -> None:
        self.this_case = message.this_case
        self.preview = message.preview
        old = self.choices
        self.choices = MergeChoices(message.preview)
        if old is not None and old.preview.survivor.id == message.preview.survivor.id:
            self.choices.applicant.update(old.applicant)
            self.choices.note = old.note
        self.busy = False
        self.show()

    def show(self) -> None:
        choices = self.choices
        if choices is None:
            return
        preview = choices.preview
        self.query_one("#merge-header", Static).update(self._header(preview))
        self.rows = merge_rows(preview)
        self.table.show(preview, self.rows, choices)
        self.query_one("#merge-summary", Static).update(self._summary(preview))
        self.refresh_bindings()

    def _header(self, preview: MergePreview) -> str:
        item = self.service.service_items.get(preview.survivor.service_item)
        name = (item.name if language() == "zh" else item.name_en) if item else ""
        return (
            f"[b $accent]{t('merge.heading')}[/]  {name}\n"
            f"{t('merge.survives')}: [b]{case_label(preview.survivor)}[/]   ◀ ▶   "
            f"{t('merge.absorbed')}: [b]{case_label(preview.absorbed)}[/]"
        )

    def _summary(self, preview: MergePreview) -> str:
        lines: list[str] = []
        if preview.applicant_mismatch:
            lines.append(f"[b $error]{t('merge.mismatch')}[/]")
        if preview.time_limit_from is not None and preview.deadline is not None:
            lines.append(
                t(
                    "merge.time_limit",
                    date=preview.deadline.isoformat(),
                    side=t(f"merge.side.{preview.time_limit_from}"),
                )
            )
        if preview.ticket is not None:
            lines.append(t("merge.ticket_follows"))
        if self.choices is not None and self.choices.note:
            lines.append(t("merge.note_shown", note=self.choices.note))
        lines.append(f"[dim]{t('merge.legend')}[/]")
        return "\n".join(lines)

    def _error(self, message: str) -> None:
        self.query_one("#merge-error", Label).update(message)

    # -- choosing ------------------------------------------------------------------------

    def _selected(self) -> Row | None:
        table = self.table
        if not self.rows or table.row_count == 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("keep", "swap", "merge", "note"):
            return self.choices is not None and not self.busy
        return True

    def action_keep(self, side: MergeSide) -> None:
        row, choices = self._selected(), self.choices
        if row is None or choices is None:
            return
        if not row.choosable:
            self._error(
                t("merge.nothing_to_choose")
                if row.kind == "applicant"
                else t("merge.one_side_only")
            )
            return
        if row.kind == "applicant":
            choices.choose_applicant(cast(ApplicantField, row.code), side)
        else:
            choices.choose_material(row.code, side)
        self._error("")
        table = self.table
        table.show_row(row, choices)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_swap(self) -> None:
        self.survivor = "other" if self.survivor == "this" else "this"
        self.busy = True
        self._error("")
        self.load()

    def action_note(self) -> None:
        choices = self.choices
        if choices is None:
            return

        def noted(note: str | None) -> None:
            if note is not None and self.choices is not None:
                self.choices.note = note or None
                self.show()

        self.app.push_screen(
            PromptDialog(
                t("merge.note_title"),
                value=choices.note or "",
                required=False,
                field=(MergeRequest, "note"),
            ),
            noted,
        )

    def action_merge(self) -> None:
        choices = self.choices
        if choices is None or self.busy:
            return
        unresolved = choices.unresolved()
        if unresolved:
            fields = ", ".join(t(f"merge.field.{name}") for name in unresolved)
            self._error(t("merge.unresolved", fields=fields))
            table = self.table
            first = next(i for i, r in enumerate(self.rows) if r.key == f"a:{unresolved[0]}")
            table.move_cursor(row=first)
            return
        self._error("")
        preview = choices.preview
        mismatch = choices.needs_confirmation
        key = "merge.confirm_mismatch" if mismatch else "merge.confirm"
        message = t(key, absorbed=preview.absorbed.number, survivor=preview.survivor.number)

        def confirmed(yes: bool | None) -> None:
            if yes and self.choices is not None:
                self.choices.confirm_mismatch = mismatch
                self.busy = True
                self.refresh_bindings()
                self._error(t("merge.sending"))
                self.send_merge(self.choices)

        confirm = t("merge.do_mismatch") if mismatch else t("merge.do")
        self.app.push_screen(ConfirmDialog(message, confirm=confirm, danger=mismatch), confirmed)

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- workers -------------------------------------------------------------------------

    @work(exclusive=True, group="merge-preview", exit_on_error=False)
    async def load(self) -> None:
        this_case = self.this_case
        try:
            if this_case is None:
                this_case, opened = await merging.case_for_subject(self.service, self.subject)
                if opened is not None:
                    self.notify(
                        t("merge.opened_case", number=opened.number, ticket=self.subject.label)
                    )
            preview = await merging.preview(self.service, this_case, self.other_case, self.survivor)
        except ApiError as error:
            self.post_message(self.PreviewFailed(error, this_case))
            return
        self.post_message(self.Previewed(preview, this_case))

    @on(PreviewFailed)
    def _preview_failed(self, message: PreviewFailed) -> None:
        if message.this_case is not None:
            self.this_case = message.this_case  # a case opened for the ticket is not opened twice
        self.busy = False
        self._error(describe_error(message.error))
        self.query_one("#merge-header", Static).update(t("merge.preview_failed"))

    @work(exclusive=True, group="merge-send", exit_on_error=False)
    async def send_merge(self, choices: MergeChoices) -> None:
        try:
            result = await merging.merge(self.service, choices, self.survivor)
        except ApiError as error:
            self.post_message(self.MergeFailed(error))
            return
        self.post_message(self.Merged(result))

    @on(MergeFailed)
    def _merge_failed(self, message: MergeFailed) -> None:
        self.busy = False
        refusal = self._refusal(message.error)
        self._error(refusal)
        self.notify(refusal, title=t("merge.failed"), severity="error", timeout=10)
        if isinstance(message.error, PreconditionFailed):
            self.load()
        self.refresh_bindings()

    def _refusal(self, error: ApiError) -> str:
        """The server's refusal in words the clerk can act on."""
        problem = error.problem
        extra: dict[str, Any] = (problem.model_extra or {}) if problem is not None else {}
        kind = problem.type.rsplit("/", 1)[-1] if problem is not None else ""
        if kind == "case-merged":
            survivor = extra.get("survivor") or {}
            return t("merge.error.merged_elsewhere", number=survivor.get("number", "?"))
        if kind == "applicant-mismatch":
            return t("merge.error.mismatch")
        if isinstance(error, PreconditionFailed):
            return t("merge.error.stale")
        if isinstance(error, Conflict | ValidationFailed):
            return t("merge.error.refused", detail=error.message)
        return describe_error(error)

    @on(Merged)
    def _merged(self, message: Merged) -> None:
        result = message.result
        self.notify(
            t("merge.done", absorbed=result.absorbed.number, survivor=result.survivor.number)
        )
        app = self.app
        app.pop_screen()
        app.screen.post_message(self.Closed(result))
