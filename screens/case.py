"""Provides `CaseScreen`: the guideline, the checklist with findings, and the decisions.

Checklist marks and decisions go through the outbox (decisions held for the undo window), so
the clerk can work on while offline; a change refused because someone else changed the case is
shown with what changed, and the clerk chooses (see `ConflictDialog`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from api_client.models import (
    AcceptDecision,
    AcceptWithOwedDecision,
    ApproveDecision,
    AttachedELicence,
    Case,
    ChecklistRow,
    DocumentFacts,
    MaterialVerification,
    RejectDecision,
    SupplementDecision,
    SupplementItem,
    SupplementReceivedDecision,
    TransferDecision,
    WithdrawDecision,
)
from api_client.models.decisions import DecisionRequest
from screens.base import DeskScreen
from screens.bindings import CLERK2, named_binding
from screens.case_text import (
    guideline_text,
    owed_preview,
    row_findings,
    supplement_preview,
    supplement_rows,
    unavailable_decisions,
)
from screens.conflicts import ConflictDialog
from screens.dialogs import ChoiceDialog, NoticeDialog, PromptDialog, RejectDialog
from screens.facts_dialog import FactsDialog
from screens.merge import MergeScreen, merge_bindings, open_merge_candidates, open_merge_history
from screens.merge_text import merge_lines
from screens.widgets.banners import OfflineBanner, UndoBar
from screens.widgets.key_bar import KeyBar
from workbench.i18n import language, t
from workbench.merging import MergeSubject
from workbench.outbox import EntryState, OutboxEntry
from workbench.services import PersonalData
from workbench.store import Snapshot

__all__ = ["DECISIONS", "REJECT_REASONS", "CaseScreen"]

DECISIONS = (
    "accept",
    "supplement",
    "accept_with_owed",
    "reject",
    "approve",
    "transfer",
    "withdraw",
    "supplement_received",
)
REJECT_REASONS = (
    "not_in_remit",
    "not_eligible",
    "not_corrected",
    "false_materials",
    "no_permit_needed",
    "duplicate",
    "document_expired",
    "no_authorisation",
)
CHECKLIST_COLUMNS = ("material", "required", "status", "provided", "findings")
FALLBACK_WIDTHS = {"material": 34, "required": 16, "status": 11, "provided": 20, "findings": 22}
"""The widths used before the table knows its own width."""
CELL_PADDING = 2
"""DataTable pads every cell by one on either side."""
MIN_MATERIAL = 24
MIN_FINDINGS = 20
MAX_SHORT = 26
"""At most this wide: the required, status and provided columns."""
TYPING_PAUSE = 0.8
"""Seconds without a key before a refusal dialog may open on its own."""
MARKS = {
    "original": ("provided", "original"),
    "copy": ("provided", "copy"),
    "upload": ("provided", "upload"),
    "missing": ("missing", None),
    "owed": ("owed", None),
    "not_applicable": ("not_applicable", None),
}


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


def column_widths(
    headers: dict[str, str], rows: Iterable[tuple[Text, ...]], available: int
) -> dict[str, int]:
    """Widths for the checklist: the short columns as wide as their contents, the material's
    name as wide as the longest one (leaving findings some room), the findings the rest."""
    need = {column: cell_len(header) for column, header in headers.items()}
    for cells in rows:
        for column, cell in zip(CHECKLIST_COLUMNS, cells, strict=True):
            need[column] = max(need[column], cell.cell_len)
    widths = {c: min(MAX_SHORT, need[c]) for c in ("required", "status", "provided")}
    room = available - CELL_PADDING * len(CHECKLIST_COLUMNS) - sum(widths.values())
    findings_least = min(need["findings"], MIN_FINDINGS)
    widths["material"] = max(MIN_MATERIAL, min(need["material"], room - findings_least))
    widths["findings"] = max(findings_least, room - widths["material"], 1)
    return {column: widths[column] for column in CHECKLIST_COLUMNS}


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
        named_binding("i", "facts", "facts", table=CLERK2),
        named_binding("d", "decide", "decide"),
        named_binding("r", "supplement_received", "supplement_received", table=CLERK2),
        named_binding("v", "reveal", "reveal", tooltip="case_guard.tip_reveal"),
        named_binding("f7", "save_notice", "save_notice", show=False),
        named_binding("f8", "print_notice", "print_notice", show=False),
        *merge_bindings(candidates="M", history="h"),
    ]

    class Loaded(Message):
        def __init__(self, case: Case) -> None:
            super().__init__()
            self.case = case

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.case: Case | None = None
        self.local: dict[str, str] = {}
        self.revealed: PersonalData | None = None
        """What the clerk revealed with `v`: only this is ever shown unmasked."""
        self._holder_id: str | None = None
        """The applicant's ID number as fetched for e-licence look-ups: used, never shown."""
        self._unsubscribe: Callable[[], None] | None = None
        self._conflicts_seen: set[int] = set()
        self._sending: list[tuple[str, str]] = []
        """Marks queued on this screen but not yet written to the outbox (material, status)."""
        self._refused: set[int] = set()
        self._last_key = 0.0
        self._refusal_due: OutboxEntry | None = None
        self._widths: dict[str, int] = {}
        self._layout_pending = False
        """This case's outbox entries the server refused, as last seen."""

    def compose(self) -> ComposeResult:
        yield OfflineBanner(id="offline-banner")
        yield Static(t("case.loading"), id="case-header")
        with Horizontal(id="case-body"):
            with VerticalScroll(id="guideline"):
                yield Static("", id="guideline-text")
            with Vertical(id="case-main"):
                yield DataTable(id="checklist", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="case-detail"):
                    yield Static("", id="findings")
                    yield Static("", id="decisions")
        yield UndoBar(self.service, id="undo-bar")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#guideline").border_title = t("case.guideline")
        table = self.query_one("#checklist", DataTable)
        table.border_title = t("case.checklist")
        self._set_columns(FALLBACK_WIDTHS)
        table.focus()
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
            self.check_conflicts()

    def _show_connection(self, snap: Snapshot) -> None:
        banner = self.query_one(OfflineBanner)
        banner.pending = snap.outbox.pending
        banner.offline = snap.connection.value == "offline" or snap.outbox.blocked == "offline"

    # -- showing -------------------------------------------------------------------------

    def _zh(self) -> bool:
        return language() == "zh"

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.case = message.case
        self.show_case()

    def show_case(self) -> None:
        case = self.case
        if case is None:
            return
        item = self.service.service_items.get(case.service_item)
        self.query_one("#guideline-text", Static).update(guideline_text(item))
        self.query_one("#case-header", Static).update(self._header(case))
        self._fill_checklist(case)
        self.query_one("#findings", Static).update(self._findings(case))
        self.query_one("#decisions", Static).update(self._decisions(case))
        self.refresh_bindings()

    def _header(self, case: Case) -> str:
        item = self.service.service_items.get(case.service_item)
        name = (item.name if self._zh() else item.name_en) if item else case.service_item
        applicant = self.revealed.name if self.revealed else case.applicant.name
        id_number = (
            f"[b $warning]{self.revealed.id_number}[/]"
            if self.revealed
            else f"[$masked]{case.applicant.id_number_masked}[/]"
        )
        clock = ""
        limit = case.time_limit
        if limit is not None and limit.status is not None:
            variable = f"clock-{limit.status.replace('_', '-')}"
            left = limit.working_days_left
            clock = f"  │  [b ${variable}]{t('clock.' + limit.status)}[/]"
            if limit.deadline:
                key = "clerk2.deadline_one" if left == 1 else "case.deadline"
                clock += f" · {t(key, date=limit.deadline.isoformat(), days=left)}"
        # two lines, always: the case and its state; the applicant and the clock
        return (
            f"[b $accent]{case.number}[/]  {name}  │  [b]{t('status.case.' + case.status)}[/]\n"
            f"{applicant} {id_number}  │  {t('channel.' + case.channel)}{clock}"
        )

    def _set_columns(self, widths: dict[str, int]) -> None:
        """(Re)create the checklist's columns at these widths (the rows go with them)."""
        table = self.query_one("#checklist", DataTable)
        table.clear(columns=True)
        for column in CHECKLIST_COLUMNS:
            table.add_column(t(f"checklist.{column}"), key=column, width=widths[column])
        self._widths = dict(widths)

    def on_resize(self, event: events.Resize) -> None:
        if self.case is not None:
            self.call_after_refresh(self._refill)

    def _refill(self) -> None:
        if self.case is not None:
            self._fill_checklist(self.case)

    def _fill_checklist(self, case: Case) -> None:
        table = self.query_one("#checklist", DataTable)
        cursor = table.cursor_row
        cells = {row.material: self._cells(case, row) for row in case.checklist or []}
        available = table.scrollable_content_region.width
        if available <= 0 and not self._layout_pending:
            self._layout_pending = True  # not laid out yet: once it is, size the columns
            self.call_after_refresh(self._refill)
        elif available > 0:
            self._layout_pending = False
        with self.app.batch_update():
            if available > 0:
                headers = {c: t(f"checklist.{c}") for c in CHECKLIST_COLUMNS}
                widths = column_widths(headers, cells.values(), available)
                if widths != self._widths:
                    self._set_columns(widths)
            for material, row_cells in cells.items():
                if material in table.rows:
                    for column, value in zip(CHECKLIST_COLUMNS, row_cells, strict=True):
                        table.update_cell(material, column, value)
                else:
                    table.add_row(*row_cells, key=material)
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1))

    def _cells(self, case: Case, row: ChecklistRow) -> tuple[Text, ...]:
        name = row.name if self._zh() else row.name_en
        required = t("guide.mandatory") if row.mandatory else t("guide.optional")
        if row.may_be_owed:
            required += " " + t("guide.may_be_owed_short")
        local = self.local.get(row.material)
        status = t(f"material.{local or row.status}") + (" ⧗" if local else "")
        style = {"provided": "", "missing": "bold", "owed": "italic"}.get(
            local or row.status, "dim"
        )
        provided = self._provided(row, local or row.status)
        findings = row_findings(case, row)
        warn = self.app.theme_variables.get("warning", "")
        return (
            Text(name, style="bold" if row.mandatory else ""),
            Text(required),
            Text(status, style=style),
            Text(provided),
            Text("; ".join(findings), style=warn if findings else ""),
        )

    def _provided(self, row: ChecklistRow, status: str) -> str:
        """How the material was provided; nothing for one missing, owed or not applicable
        (an upload not yet checked is only mentioned while the row is still to check)."""
        if status == "pending":
            return t("provided.uploaded") if row.uploaded else ""
        if status != "provided" or row.status != "provided":
            return ""
        if row.e_licence is not None:
            return t("case_guard.e_licence_provided", label=self._licence_label(row.e_licence))
        return t(f"provided.{row.provided_as}") if row.provided_as else ""

    def _licence_label(self, licence: AttachedELicence) -> str:
        """A short label of the licence itself: its own number, or (a licence numbered by the
        holder's ID number, like the ID card's) how long it is valid; never an ID number."""
        if "*" not in licence.number_masked and licence.number_masked != self._holder_id:
            return licence.number_masked
        if licence.valid_to is None:
            return t("case_guard.e_licence_long_term")
        return t("case_guard.e_licence_valid_to", date=licence.valid_to.isoformat())

    def _findings(self, case: Case) -> str:
        findings = case.findings or []
        lines = [f"[b]{t('case.findings')}[/b]"]
        to_check = sum(1 for row in case.checklist or [] if row.status == "pending")
        if not findings and to_check:
            key = (
                "case_guard.no_findings_yet_one" if to_check == 1 else "case_guard.no_findings_yet"
            )
            lines.append(f"[dim]{t(key, n=to_check)}[/]")
        elif not findings:
            lines.append(f"[dim]{t('case.no_findings')}[/]")
        for finding in findings:
            colour = {"error": "$error", "warning": "$warning"}.get(finding.severity, "$secondary")
            message = finding.message_zh if self._zh() else finding.message_en
            lines.append(f"[{colour}]●[/] {message}")
        if case.owed:
            lines.append("")
            lines.append(t("case.owed", materials=", ".join(self._material_names(case, case.owed))))
        return "\n".join(lines)

    def _material_names(self, case: Case, codes: list[str]) -> list[str]:
        rows = {row.material: row for row in case.checklist or []}
        zh = self._zh()
        return [
            (rows[code].name if zh else rows[code].name_en) if code in rows else code
            for code in codes
        ]

    def _decisions(self, case: Case) -> str:
        lines = [f"[b]{t('case.history')}[/b]"]
        for record in case.decisions or []:
            when = record.at.astimezone().strftime("%m-%d %H:%M")
            lines.append(
                f"{when}  {t('decision.' + record.decision)}  {record.actor or ''}"
                f"  {record.note or ''}"
            )
        for notice in case.notices or []:
            kind = t(f"notice_kind.{notice.kind}")
            lines.append(f"[$secondary]{t('case.notice', number=notice.number, kind=kind)}[/]")
        if len(lines) == 1:
            lines.append(f"[dim]{t('case.no_decisions')}[/]")
        lines.extend(merge_lines(case))
        return "\n".join(lines)

    def translate(self) -> None:
        self.query_one("#guideline").border_title = t("case.guideline")
        table = self.query_one("#checklist", DataTable)
        table.border_title = t("case.checklist")
        for column in CHECKLIST_COLUMNS:
            table.columns[column].label = Text(t(f"checklist.{column}"))  # type: ignore[index]
        self.show_case()
        self.query_one(KeyBar).render_keys()

    # -- checklist -----------------------------------------------------------------------

    def _selected_row(self) -> ChecklistRow | None:
        if self.case is None or not self.case.checklist:
            return None
        table = self.query_one("#checklist", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((r for r in self.case.checklist if r.material == key.value), None)

    def action_mark(self, mark: str) -> None:
        row = self._selected_row()
        if row is None or self.case is None:
            return
        status, provided_as = MARKS[mark]
        if status == "owed" and not row.may_be_owed:
            self.notify(t("case.not_owable"), severity="warning")
            return
        if status == "not_applicable" and row.mandatory:
            name = row.name if self._zh() else row.name_en
            self.notify(t("case_guard.mandatory_not_na", material=name), severity="warning")
            return
        verification = MaterialVerification(status=status, provided_as=provided_as, note=row.note)
        self._queue_mark(row, verification)

    def _queue_mark(
        self, row: ChecklistRow, verification: MaterialVerification, *, advance: bool = True
    ) -> None:
        self.local[row.material] = verification.status
        self._sending.append((row.material, verification.status))
        if self.case is not None:
            self._fill_checklist(self.case)
            table = self.query_one("#checklist", DataTable)
            if advance and table.cursor_row < table.row_count - 1:
                table.move_cursor(row=table.cursor_row + 1)
        self.send_mark(row.material, verification)

    def action_note(self) -> None:
        row = self._selected_row()
        if row is None:
            return

        def noted(note: str | None) -> None:
            if note is None or self.case is None:
                return
            status = row.status if row.status != "pending" else "provided"
            provided_as = row.provided_as or ("original" if status == "provided" else None)
            verification = MaterialVerification(
                status=status,
                provided_as=provided_as if status == "provided" else None,
                e_licence_id=row.e_licence.id
                if row.e_licence and provided_as == "e_licence"
                else None,
                note=note or None,
            )
            self._queue_mark(row, verification)

        self.app.push_screen(PromptDialog(t("case.note_title"), value=row.note or ""), noted)

    def action_e_licence(self) -> None:
        row = self._selected_row()
        if row is None or self.case is None:
            return
        self.look_up_e_licence(row)

    def action_facts(self) -> None:
        """Type the facts printed on the selected material (the checks run on them)."""
        row = self._selected_row()
        if row is None or self.case is None:
            return
        name = row.name if self._zh() else row.name_en

        def typed(facts: DocumentFacts | None) -> None:
            if facts is None or self.case is None:
                return
            provided_as = row.provided_as if row.status == "provided" else None
            licence = row.e_licence.id if row.e_licence and provided_as == "e_licence" else None
            if provided_as is None or (provided_as == "e_licence" and licence is None):
                provided_as = "original"  # the clerk holds the paper
            verification = MaterialVerification(
                status="provided",
                provided_as=provided_as,
                e_licence_id=licence,
                note=row.note,
                document=facts,
            )
            self._queue_mark(row, verification, advance=False)

        self.app.push_screen(FactsDialog(name, row.document), typed)

    # -- decisions -----------------------------------------------------------------------

    def unavailable(self) -> dict[str, str]:
        """Decisions the server would refuse now, with why (marks on their way included)."""
        return unavailable_decisions(self.case, self.local) if self.case is not None else {}

    def action_decide(self) -> None:
        options = [(d, t(f"decision.{d}")) for d in DECISIONS]
        dialog = ChoiceDialog(t("decision.title"), options, unavailable=self.unavailable())
        self.app.push_screen(dialog, self._decided)

    def _decided(self, kind: str | None) -> None:
        if kind is None or self.case is None:
            return
        getattr(self, f"decide_{kind}")()

    def decide_accept(self) -> None:
        self._submit(AcceptDecision(decision="accept"))

    def decide_approve(self) -> None:
        self._submit(ApproveDecision(decision="approve"))

    def decide_withdraw(self) -> None:
        self._submit(WithdrawDecision(decision="withdraw"))

    def decide_supplement_received(self) -> None:
        assert self.case is not None
        if self.case.status != "supplement_requested":
            self.notify(t("clerk2.not_awaiting"), severity="warning")
            return
        self._submit(SupplementReceivedDecision(decision="supplement_received"))

    def action_supplement_received(self) -> None:
        if self.case is not None:
            self.decide_supplement_received()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "supplement_received":
            awaiting = self.case is not None and self.case.status == "supplement_requested"
            return True if awaiting else None
        return True

    def decide_supplement(self) -> None:
        assert self.case is not None
        item = self.service.service_items.get(self.case.service_item)
        preview = supplement_preview(self.case, item)

        def confirmed(send: bool | None) -> None:
            if send and self.case is not None:
                rows = supplement_rows(self.case)
                items = [SupplementItem(material=row.material) for row in rows]
                self._submit(SupplementDecision(decision="supplement", items=items))

        self.app.push_screen(
            NoticeDialog(t("notice.preview_title"), preview, confirm=t("notice.send")), confirmed
        )

    def decide_accept_with_owed(self) -> None:
        assert self.case is not None

        def confirmed(send: bool | None) -> None:
            if send:
                self._submit(
                    AcceptWithOwedDecision(decision="accept_with_owed", pledge_signed=True)
                )

        self.app.push_screen(
            NoticeDialog(
                t("owed.title"), owed_preview(self.case), confirm=t("owed.send"), pledge=True
            ),
            confirmed,
        )

    def decide_reject(self) -> None:
        reasons = [(code, t(f"reject.{code}")) for code in REJECT_REASONS]

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer:
                code, text = answer
                self._submit(RejectDecision(decision="reject", reason_code=code, reason_text=text))

        self.app.push_screen(RejectDialog(reasons), chosen)

    def decide_transfer(self) -> None:
        here = self.service.window
        zh = self._zh()
        options = [
            (w.code, f"{w.code}  {w.name if zh else w.name_en}")
            for w in self.service.windows.values()
            if w.code != here
        ]

        def chosen(window: str | None) -> None:
            if not window:
                return

            def noted(note: str | None) -> None:
                if note:
                    self._submit(
                        TransferDecision(decision="transfer", target_window=window, note=note)
                    )

            self.app.push_screen(PromptDialog(t("transfer.note")), noted)

        self.app.push_screen(ChoiceDialog(t("transfer.title"), options), chosen)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        if self.case is None:
            return []
        unavailable = self.unavailable()
        return [
            (t(f"decision.{d}"), t("palette.decide"), getattr(self, f"decide_{d}"))
            for d in DECISIONS
            if d not in unavailable
        ]

    def _submit(self, decision: DecisionRequest) -> None:
        self.send_decision(decision)

    # -- reveal, notices -----------------------------------------------------------------

    def forget_personal_data(self) -> None:
        self.revealed = None
        self._holder_id = None
        self.show_case()

    def action_reveal(self) -> None:
        """v: reveal the applicant's ID number and name (audited), or mask them again."""
        if self.revealed is None:
            self.reveal()
            return
        self.revealed = None
        self.show_case()
        self.notify(t("done.masked"))

    def binding_label(self, binding: Binding) -> str | None:
        """The footer's live label: "Hide ID" while the ID number is shown."""
        if binding.action == "reveal" and self.revealed is not None:
            return t("key.hide_id")
        return None

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

    def _latest_notice(self) -> int | None:
        notices = self.case.notices if self.case else None
        return notices[-1].id if notices else None

    def action_save_notice(self) -> None:
        if self._latest_notice() is None:
            self.notify(t("case.no_notice"), severity="warning")
            return
        self.save_notice(print_it=False)

    def action_print_notice(self) -> None:
        if self._latest_notice() is None:
            self.notify(t("case.no_notice"), severity="warning")
            return
        if shutil.which("lp") is None:
            self.notify(t("case.no_printer"), severity="warning")
            return
        self.save_notice(print_it=True)

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
        """Show only the marks still on their way: one the server refused (or the clerk
        dropped) goes back to what the server has, at once, and the case is fetched again
        (its version too: the refused change never counted)."""
        entries = await self.service.outbox_entries()
        mine = [e for e in entries if e.ordering_key == f"case:{self.case_id}"]
        refused = {e.id for e in mine if e.state is EntryState.CONFLICT}
        overlay = pending_marks(mine, self.case_id)
        overlay.update(self._sending)
        settled = refused != self._refused
        self._refused = refused
        if overlay != self.local:
            self.local = overlay
            self.show_case()
        if settled:
            self.load_case()

    @work(exclusive=True, group="case-decide", exit_on_error=False)
    async def send_decision(self, decision: DecisionRequest) -> None:
        assert self.case is not None
        entry = await self.service.decide(self.case, decision)
        self.notify(
            t(
                "undo.queued",
                what=t(f"decision.{decision.decision}"),
                seconds=int(entry.not_before - time.time() + 0.5),
            )
        )

    @work(exclusive=True, group="reveal", exit_on_error=False)
    async def reveal(self) -> None:
        revealed = await self.service.reveal("case", self.case_id)
        self.revealed = revealed.data
        self.show_case()

    @work(exclusive=True, group="e-licence", exit_on_error=False)
    async def look_up_e_licence(self, row: ChecklistRow) -> None:
        licences = await self.service.e_licences(await self._e_licence_holder())
        wanted = [
            lic for lic in licences if not row.e_licence_type or lic.type == row.e_licence_type
        ]
        usable = [lic for lic in wanted if lic.usable]
        if not usable:
            self.notify(t("case.no_e_licence"), severity="warning")
            return
        zh = self._zh()
        options = [
            (
                str(lic.id),
                f"{lic.type_name if zh else lic.type_name_en}  {lic.number_masked}  {lic.issuer}",
            )
            for lic in usable
        ]

        def chosen(licence_id: str | None) -> None:
            if licence_id:
                verification = MaterialVerification(
                    status="provided", provided_as="e_licence", e_licence_id=int(licence_id)
                )
                self._queue_mark(row, verification)

        self.app.push_screen(ChoiceDialog(t("case.e_licence_title"), options), chosen)

    async def _e_licence_holder(self) -> str:
        """The ID number to look e-licences up by. The look-up needs it unmasked (the server
        logs fetching it), but it is kept apart from `revealed`: a look-up must not unmask the
        header, only the reveal key does."""
        if self.revealed is not None:
            return self.revealed.id_number
        if self._holder_id is None:
            self._holder_id = (await self.service.reveal("case", self.case_id)).data.id_number
        return self._holder_id

    @work(exclusive=True, group="notice", exit_on_error=False)
    async def save_notice(self, *, print_it: bool) -> None:
        import asyncio
        import subprocess

        from platformdirs import user_documents_dir

        notice_id = self._latest_notice()
        assert self.case is not None and notice_id is not None
        data = await self.service.notice(self.case.id, notice_id, pdf=True)
        folder = Path(user_documents_dir()) / "service-workbench"
        path = folder / f"{self.case.number}-{notice_id}.pdf"

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        await asyncio.to_thread(write)
        if print_it:
            await asyncio.to_thread(
                subprocess.run, ["lp", str(path)], check=True, capture_output=True, timeout=20
            )
            self.notify(t("case.printed", path=str(path)))
        else:
            self.notify(t("case.saved", path=str(path)))

    @work(exclusive=True, group="conflicts", exit_on_error=False)
    async def check_conflicts(self) -> None:
        entries = await self.service.outbox_entries()
        mine = [
            e
            for e in entries
            if e.state is EntryState.CONFLICT
            and e.ordering_key == f"case:{self.case_id}"
            and e.id not in self._conflicts_seen
        ]
        if mine:
            self._conflicts_seen.add(mine[0].id)
            self._refusal_due = mine[0]
            self._offer_refusal()

    def _offer_refusal(self) -> None:
        """Open the refusal dialog once this screen is on top and the clerk has paused
        typing: a dialog that opens by itself must not catch a key meant for this screen
        (`d` decides here, but drops the refused change in the dialog)."""
        entry = self._refusal_due
        if entry is None or not self.is_attached or self.app.screen is not self:
            return  # on_screen_resume offers it
        quiet = time.monotonic() - self._last_key
        if quiet < TYPING_PAUSE:
            self.set_timer(TYPING_PAUSE - quiet, self._offer_refusal)
            return
        self._refusal_due = None
        self.app.push_screen(ConflictDialog(entry), self._settled)

    def on_screen_resume(self) -> None:
        self._offer_refusal()

    def on_key(self, event: events.Key) -> None:
        self._last_key = time.monotonic()

    def _settled(self, entry: OutboxEntry | None) -> None:
        self.load_case()
