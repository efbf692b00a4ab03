"""Provides `MergeTable`: the two cases side by side, row by row, with which side each row keeps
(rows whose sides differ highlighted, the side kept underlined)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from api_client.models import MergePreview
from screens.merge.rows import Row
from workbench.i18n import t
from workbench.merging import MergeChoices

__all__ = ["COLUMNS", "MergeTable"]

COLUMNS = ("what", "left", "right", "keeps")
WIDTHS = {"what": 30, "left": 42, "right": 42, "keeps": 16}


class MergeTable(DataTable[Any]):
    """The merge's rows; the screen keeps the choices and tells the table what to show."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")

    def set_up(self) -> None:
        """Title it and add its columns."""
        self.border_title = t("merge.title")
        for column in COLUMNS:
            self.add_column(t(f"merge.column.{column}"), key=column, width=WIDTHS[column])

    def show(self, preview: MergePreview, rows: list[Row], choices: MergeChoices) -> None:
        """Show `rows` (the survivor's side on the left), keeping the cursor where it was."""
        self.border_title = t("merge.title")
        self.columns["left"].label = Text(  # type: ignore[index]
            f"1 ◀ {t('merge.survives')}: {preview.survivor.number}"
        )
        self.columns["right"].label = Text(  # type: ignore[index]
            f"{t('merge.absorbed')}: {preview.absorbed.number} ▶ 2"
        )
        for column in ("what", "keeps"):
            self.columns[column].label = Text(t(f"merge.column.{column}"))  # type: ignore[index]
        cursor = self.cursor_row
        with self.app.batch_update():
            self.clear()
            for row in rows:
                self.add_row(*self._cells(row, choices), key=row.key)
            if self.row_count:
                self.move_cursor(row=min(cursor, self.row_count - 1))

    def show_row(self, row: Row, choices: MergeChoices) -> None:
        """Show what `row` keeps now."""
        for column, cell in zip(COLUMNS, self._cells(row, choices), strict=True):
            self.update_cell(row.key, column, cell)

    def _colour(self, variable: str) -> str:
        return self.app.theme_variables.get(variable, "")

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
