"""Provides `Checklist`: the case's materials, their status and findings, and the marks.

The table sizes its columns to its width (`column_widths`). Marking a material, typing its note
or the facts printed on it ends in a `Checklist.MarkRequested`; the case screen queues it.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from api_client.models import (
    AttachedELicence,
    Case,
    ChecklistRow,
    DocumentFacts,
    MaterialVerification,
)
from screens.case_text import row_findings
from screens.dialogs import PromptDialog
from screens.facts_dialog import FactsDialog
from workbench.i18n import language, t

__all__ = ["CHECKLIST_COLUMNS", "MARKS", "Checklist", "column_widths"]

CHECKLIST_COLUMNS = ("material", "required", "status", "provided", "findings")
FALLBACK_WIDTHS = {"material": 34, "required": 16, "status": 11, "provided": 20, "findings": 22}
"""The widths used before the table knows its own width."""
CELL_PADDING = 2
"""DataTable pads every cell by one on either side."""
MIN_MATERIAL = 24
MIN_FINDINGS = 20
MAX_SHORT = 26
"""At most this wide: the required, status and provided columns."""
MARKS = {
    "original": ("provided", "original"),
    "copy": ("provided", "copy"),
    "upload": ("provided", "upload"),
    "missing": ("missing", None),
    "owed": ("owed", None),
    "not_applicable": ("not_applicable", None),
}


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


def _zh() -> bool:
    return language() == "zh"


class Checklist(DataTable[Text]):
    """The materials of the case on the screen, one row each (keyed by material code)."""

    class MarkRequested(Message):
        """The clerk marked a material: the case screen queues the mark."""

        def __init__(self, row: ChecklistRow, verification: MaterialVerification) -> None:
            super().__init__()
            self.row = row
            self.verification = verification

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.case: Case | None = None
        self.local: dict[str, str] = {}
        """Marks on their way (material → status): shown with ⧗."""
        self.holder_id: str | None = None
        """The applicant's ID number if fetched: a licence numbered by it is not named by it."""
        self._widths: dict[str, int] = {}
        self._layout_pending = False

    def on_mount(self) -> None:
        self.border_title = t("case.checklist")
        self._set_columns(FALLBACK_WIDTHS)

    def translate(self) -> None:
        self.border_title = t("case.checklist")
        for column in CHECKLIST_COLUMNS:
            self.columns[column].label = Text(t(f"checklist.{column}"))  # type: ignore[index]

    # -- showing -------------------------------------------------------------------------

    def show(self, case: Case, local: dict[str, str], holder_id: str | None) -> None:
        self.case, self.local, self.holder_id = case, local, holder_id
        self.refill()

    def refill(self) -> None:
        """Fill the rows again, sizing the columns to the table's width."""
        case = self.case
        if case is None:
            return
        cursor = self.cursor_row
        cells = {row.material: self._cells(case, row) for row in case.checklist or []}
        available = self.scrollable_content_region.width
        if available <= 0 and not self._layout_pending:
            self._layout_pending = True  # not laid out yet: once it is, size the columns
            self.call_after_refresh(self.refill)
        elif available > 0:
            self._layout_pending = False
        with self.app.batch_update():
            if available > 0:
                headers = {c: t(f"checklist.{c}") for c in CHECKLIST_COLUMNS}
                widths = column_widths(headers, cells.values(), available)
                if widths != self._widths:
                    self._set_columns(widths)
            for material, row_cells in cells.items():
                if material in self.rows:
                    for column, value in zip(CHECKLIST_COLUMNS, row_cells, strict=True):
                        self.update_cell(material, column, value)
                else:
                    self.add_row(*row_cells, key=material)
            if self.row_count:
                self.move_cursor(row=min(cursor, self.row_count - 1))

    def advance(self) -> None:
        """Move to the next material (after a mark)."""
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def _set_columns(self, widths: dict[str, int]) -> None:
        """(Re)create the columns at these widths (the rows go with them)."""
        self.clear(columns=True)
        for column in CHECKLIST_COLUMNS:
            self.add_column(t(f"checklist.{column}"), key=column, width=widths[column])
        self._widths = dict(widths)

    def _cells(self, case: Case, row: ChecklistRow) -> tuple[Text, ...]:
        name = row.name if _zh() else row.name_en
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
        if "*" not in licence.number_masked and licence.number_masked != self.holder_id:
            return licence.number_masked
        if licence.valid_to is None:
            return t("case_guard.e_licence_long_term")
        return t("case_guard.e_licence_valid_to", date=licence.valid_to.isoformat())

    # -- marking -------------------------------------------------------------------------

    def _request(
        self, row: ChecklistRow, verification: MaterialVerification, *, advance: bool = True
    ) -> None:
        """Ask for the mark and (at once, so the next key marks the next row) move on."""
        self.post_message(self.MarkRequested(row, verification))
        if advance:
            self.advance()

    def selected_row(self) -> ChecklistRow | None:
        if self.case is None or not self.case.checklist or self.row_count == 0:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return next((r for r in self.case.checklist if r.material == key.value), None)

    def mark(self, mark: str) -> None:
        """Mark the selected material (a key of `MARKS`), unless the rules forbid it."""
        row = self.selected_row()
        if row is None:
            return
        status, provided_as = MARKS[mark]
        if status == "owed" and not row.may_be_owed:
            self.notify(t("case.not_owable"), severity="warning")
            return
        if status == "not_applicable" and row.mandatory:
            name = row.name if _zh() else row.name_en
            self.notify(t("case_guard.mandatory_not_na", material=name), severity="warning")
            return
        verification = MaterialVerification(status=status, provided_as=provided_as, note=row.note)
        self._request(row, verification)

    def note(self) -> None:
        """Write a note on the selected material (marking it provided if still to check)."""
        row = self.selected_row()
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
            self._request(row, verification)

        dialog = PromptDialog(
            t("case.note_title"), value=row.note or "", field=(MaterialVerification, "note")
        )
        self.app.push_screen(dialog, noted)

    def facts(self) -> None:
        """Type the facts printed on the selected material (the checks run on them)."""
        row = self.selected_row()
        if row is None:
            return
        name = row.name if _zh() else row.name_en

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
            self._request(row, verification, advance=False)

        dialog = FactsDialog(
            name, row.document, kind=row.kind, needs_expiry_check=row.needs_expiry_check
        )
        self.app.push_screen(dialog, typed)
