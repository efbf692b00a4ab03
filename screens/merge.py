"""Provides `MergeScreen`: two cases side by side, row by row, and the merge itself.

The rows are the applicant's fields and then every material either case holds; rows whose two
sides differ are highlighted. On a highlighted row 1 (or ←) keeps the left case's side and 2 (or
→) the right one's: for a material, whose item survives (the default, from the server's preview,
is the verified one, then the newer); for an applicant field, whose value is right — every
differing field must be chosen before M merges. Different ID numbers need an explicit
confirmation. `s` swaps which case survives.

`open_merge_candidates` and `ask_merge_history` are the entry points the other screens call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from api_client.errors import ApiError, Conflict, PreconditionFailed, ValidationFailed
from api_client.models import MergePreview, MergeResult
from api_client.models.merges import ApplicantField, MergeSide
from screens.base import DeskScreen
from screens.bindings import MERGE, named_binding
from screens.dialogs import ConfirmDialog, PromptDialog
from screens.errors import describe_error
from screens.merge_dialogs import CandidatePick, MergeCandidatesDialog, MergeHistoryDialog
from screens.merge_text import case_label, side_text
from screens.stylesheets import beside
from screens.widgets.key_bar import KeyBar
from workbench import merging
from workbench.i18n import language, t
from workbench.merging import MergeChoices, MergeSubject

__all__ = [
    "MergeScreen",
    "ask_merge_history",
    "merge_bindings",
    "open_merge_candidates",
    "open_merge_history",
]

Survivor = Literal["this", "other"]
COLUMNS = ("what", "left", "right", "keeps")
WIDTHS = {"what": 30, "left": 42, "right": 42, "keeps": 16}
SUMMARY_FIELDS: tuple[ApplicantField, ...] = ("name", "id_number", "phone")


def merge_bindings(*, candidates: str, history: str) -> list[BindingType]:
    """The keys other screens add: the candidates for what is in hand, and merge history."""
    return [
        named_binding(
            candidates, "merge_candidates", "candidates", table=MERGE, binding_id="merge"
        ),
        named_binding(history, "merge_history", "history", table=MERGE, show=False),
    ]


@dataclass(frozen=True)
class Row:
    """One line of the side-by-side table: an applicant field or a material."""

    key: str
    kind: Literal["applicant", "material"]
    code: str
    label: str
    left: str
    right: str
    differs: bool
    choosable: bool


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

    class Merged(Message):
        def __init__(self, result: MergeResult) -> None:
            super().__init__()
            self.result = result

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
        yield DataTable(id="merge-rows", cursor_type="row")
        yield Static("", id="merge-summary")
        yield Label("", id="merge-error", classes="form-error")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = t("merge.title")
        for column in COLUMNS:
            table.add_column(t(f"merge.column.{column}"), key=column, width=WIDTHS[column])
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

    def _colour(self, variable: str) -> str:
        return self.app.theme_variables.get(variable, "")

    def show(self) -> None:
        choices = self.choices
        if choices is None:
            return
        preview = choices.preview
        self.query_one("#merge-header", Static).update(self._header(preview))
        table = self.query_one(DataTable)
        table.border_title = t("merge.title")
        table.columns["left"].label = Text(  # type: ignore[index]
            f"1 ◀ {t('merge.survives')}: {preview.survivor.number}"
        )
        table.columns["right"].label = Text(  # type: ignore[index]
            f"{t('merge.absorbed')}: {preview.absorbed.number} ▶ 2"
        )
        for column in ("what", "keeps"):
            table.columns[column].label = Text(t(f"merge.column.{column}"))  # type: ignore[index]
        self.rows = self._rows(preview)
        cursor = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for row in self.rows:
                table.add_row(*self._cells(row, choices), key=row.key)
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1))
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

    def _rows(self, preview: MergePreview) -> list[Row]:
        rows: list[Row] = []
        differences = {d.field: d for d in preview.differences}
        left, right = preview.survivor.applicant, preview.absorbed.applicant
        known = {
            "name": (left.name, right.name),
            "id_number": (left.id_number_masked, right.id_number_masked),
            "phone": (left.phone_masked or "", right.phone_masked or ""),
        }
        fields: list[ApplicantField] = list(SUMMARY_FIELDS) + [
            d.field for d in preview.differences if d.field not in SUMMARY_FIELDS
        ]
        for name in fields:
            difference = differences.get(name)
            if difference is not None:
                values = (difference.survivor or "", difference.absorbed or "")
            else:
                values = known.get(name, ("", ""))
                if not any(values):
                    continue
            rows.append(
                Row(
                    key=f"a:{name}",
                    kind="applicant",
                    code=name,
                    label=t(f"merge.field.{name}"),
                    left=values[0],
                    right=values[1],
                    differs=difference is not None,
                    choosable=difference is not None,
                )
            )
        zh = language() == "zh"
        for material in preview.materials:
            label = (material.name if zh else material.name_en) or material.material
            if not material.on_survivor_checklist:
                label += " *"
            left_text, right_text = side_text(material.survivor), side_text(material.absorbed)
            rows.append(
                Row(
                    key=f"m:{material.material}",
                    kind="material",
                    code=material.material,
                    label=label,
                    left=left_text,
                    right=right_text,
                    differs=left_text != right_text,
                    choosable=material.differs,
                )
            )
        return rows

    def _keeps(self, row: Row, choices: MergeChoices) -> Text:
        if row.kind == "applicant":
            if not row.differs:
                return Text(t("merge.same"), style="dim")
            side = choices.applicant.get(row.code)  # type: ignore[call-overload]
            if side is None:
                return Text(t("merge.choose"), style=f"bold {self._colour('error')}".strip())
            return Text(t(f"merge.keep_{side}"), style="bold")
        side = choices.keep(row.code)
        if not row.choosable:
            return Text(t(f"merge.only_{side}"), style="dim")
        return Text(t(f"merge.keep_{side}"), style="bold")

    def _cells(self, row: Row, choices: MergeChoices) -> tuple[Text, ...]:
        highlight = f"bold {self._colour('warning')}".strip() if row.differs else ""
        side = (
            choices.applicant.get(row.code)  # type: ignore[call-overload]
            if row.kind == "applicant"
            else choices.keep(row.code)
        )
        left_style = highlight + (" underline" if row.differs and side == "survivor" else "")
        right_style = highlight + (" underline" if row.differs and side == "absorbed" else "")
        marker = "≠ " if row.differs else "  "
        return (
            Text(marker + row.label, style=highlight or ("bold" if row.kind == "material" else "")),
            Text(row.left, style=left_style.strip()),
            Text(row.right, style=right_style.strip()),
            self._keeps(row, choices),
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
        table = self.query_one(DataTable)
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
        table = self.query_one(DataTable)
        for column, cell in zip(COLUMNS, self._cells(row, choices), strict=True):
            table.update_cell(row.key, column, cell)
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
            PromptDialog(t("merge.note_title"), value=choices.note or "", required=False), noted
        )

    def action_merge(self) -> None:
        choices = self.choices
        if choices is None or self.busy:
            return
        unresolved = choices.unresolved()
        if unresolved:
            fields = ", ".join(t(f"merge.field.{name}") for name in unresolved)
            self._error(t("merge.unresolved", fields=fields))
            table = self.query_one(DataTable)
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
                self.send_merge()

        confirm = t("merge.do_mismatch") if mismatch else t("merge.do")
        self.app.push_screen(ConfirmDialog(message, confirm=confirm, danger=mismatch), confirmed)

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- workers -------------------------------------------------------------------------

    @work(exclusive=True, group="merge-preview", exit_on_error=False)
    async def load(self) -> None:
        try:
            this_case = self.this_case
            if this_case is None:
                this_case, opened = await merging.case_for_subject(self.service, self.subject)
                self.this_case = this_case
                if opened is not None:
                    self.notify(
                        t("merge.opened_case", number=opened.number, ticket=self.subject.label)
                    )
            preview = await merging.preview(self.service, this_case, self.other_case, self.survivor)
        except ApiError as error:
            self.busy = False
            self._error(describe_error(error))
            self.query_one("#merge-header", Static).update(t("merge.preview_failed"))
            return
        self.post_message(self.Previewed(preview, this_case))

    @work(exclusive=True, group="merge-send", exit_on_error=False)
    async def send_merge(self) -> None:
        choices = self.choices
        if choices is None:
            return
        self.busy = True
        self.refresh_bindings()
        self._error(t("merge.sending"))
        try:
            result = await merging.merge(self.service, choices, self.survivor)
        except ApiError as error:
            self.busy = False
            message = self._refusal(error)
            self._error(message)
            self.notify(message, title=t("merge.failed"), severity="error", timeout=10)
            if isinstance(error, PreconditionFailed):
                self.load()
            self.refresh_bindings()
            return
        self.post_message(self.Merged(result))

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


def open_merge_candidates(screen: Screen[Any], subject: MergeSubject) -> None:
    """Show the candidates for `subject`; the one chosen opens the side-by-side screen."""

    def chosen(pick: CandidatePick | None) -> None:
        if pick is not None:
            screen.app.push_screen(MergeScreen(subject, pick.other_case, this_case=pick.this_case))

    screen.app.push_screen(MergeCandidatesDialog(subject), chosen)


def open_merge_history(
    screen: Screen[Any], case_id: int, label: str | None = None, *, on_undone: Any = None
) -> None:
    """Show a case's merges (a supervisor undoes one there); `on_undone()` runs after an undo."""

    def closed(undone: bool | None) -> None:
        if undone and on_undone is not None:
            on_undone()

    screen.app.push_screen(MergeHistoryDialog(case_id, label), closed)


def ask_merge_history(screen: Screen[Any], prefill: str = "") -> None:
    """Ask for a case number, then show that case's merge history."""

    def typed(text: str | None) -> None:
        if not text:
            return
        case_id = merging.case_id_from_number(text)
        if case_id is None:
            screen.notify(t("merge.bad_number", text=text), severity="warning")
            return
        open_merge_history(screen, case_id, text.strip())

    screen.app.push_screen(
        PromptDialog(t("merge.history_prompt"), placeholder=t("merge.number_hint"), value=prefill),
        typed,
    )
