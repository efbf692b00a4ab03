"""Provides `CaseDetail`: the case's findings, what is owed, and its decisions and notices."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from api_client.models import Case
from screens.merge_text import merge_lines
from workbench.hall_time import hall_clock
from workbench.i18n import language, t

__all__ = ["CaseDetail", "material_names"]


def material_names(case: Case, codes: list[str]) -> list[str]:
    """The checklist's names of these materials (the code of one not on it)."""
    rows = {row.material: row for row in case.checklist or []}
    zh = language() == "zh"
    return [
        (rows[code].name if zh else rows[code].name_en) if code in rows else code for code in codes
    ]


class CaseDetail(VerticalScroll):
    """Under the checklist: the findings of the checks, then the case's history."""

    def compose(self) -> ComposeResult:
        yield Static("", id="findings")
        yield Static("", id="decisions")

    def show(self, case: Case) -> None:
        self.query_one("#findings", Static).update(self._findings(case))
        self.query_one("#decisions", Static).update(self._decisions(case))

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
            message = finding.message_zh if language() == "zh" else finding.message_en
            lines.append(f"[{colour}]●[/] {message}")
        if case.owed:
            lines.append("")
            lines.append(t("case.owed", materials=", ".join(material_names(case, case.owed))))
        return "\n".join(lines)

    def _decisions(self, case: Case) -> str:
        lines = [f"[b]{t('case.history')}[/b]"]
        for record in case.decisions or []:
            when = hall_clock().local(record.at).strftime("%m-%d %H:%M")
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
