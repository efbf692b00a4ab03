"""Provides the case screen's texts: the guideline, findings, decisions and notice previews.

Pure functions of the case and the catalogue (no Textual), so they are easy to test and the
screen module stays about layout and keys.
"""

from __future__ import annotations

from api_client.models import Case, ChecklistRow, ServiceItem
from workbench.i18n import language, t

__all__ = [
    "guideline_text",
    "missing_rows",
    "owed_preview",
    "row_findings",
    "supplement_preview",
]


def _zh() -> bool:
    return language() == "zh"


def _days(n: int) -> str:
    return t("clerk2.day_one") if n == 1 else t("guide.days", n=n)


def guideline_text(item: ServiceItem | None) -> str:
    if item is None:
        return t("case.no_guideline")
    name = item.name if _zh() else item.name_en
    department = item.department_name if _zh() else item.department_name_en
    lines = [
        f"[b]{name}[/b]",
        f"{t('guide.department')}: {department}",
        f"{t('guide.promised')}: {_days(item.promised_days)}",
        f"{t('guide.statutory')}: {_days(item.statutory_days)}",
        f"{t('guide.fee')}: {t('guide.free') if not item.fee_yuan else f'¥{item.fee_yuan:.2f}'}",
        "",
        f"[b]{t('guide.materials')}[/b]",
    ]
    for material in item.materials:
        flags = []
        flags.append(t("guide.mandatory") if material.mandatory else t("guide.optional"))
        if material.may_be_owed:
            flags.append(t("guide.may_be_owed"))
        if material.e_licence_type:
            flags.append(t("guide.e_licence"))
        label = material.name if _zh() else material.name_en
        lines.append(f"• {label} ({', '.join(flags)})")
    guide = item.guideline if _zh() else item.guideline_en
    if guide:
        lines += ["", guide]
    return "\n".join(lines)


def row_findings(case: Case, row: ChecklistRow) -> list[str]:
    found = [f for f in case.findings or [] if f.material == row.material]
    return [f.message_zh if _zh() else f.message_en for f in found]


def missing_rows(case: Case) -> list[ChecklistRow]:
    """Rows the one-time notice must list: missing ones and ones with an error finding."""
    defective = {f.material for f in case.findings or [] if f.severity == "error" and f.material}
    return [
        row
        for row in case.checklist or []
        if row.status == "missing" or (row.material in defective and row.status != "not_applicable")
    ]


def _name(row: ChecklistRow) -> str:
    return row.name if _zh() else row.name_en


def supplement_preview(case: Case, item: ServiceItem | None) -> str:
    rows = missing_rows(case)
    title = (item.name if _zh() else item.name_en) if item else case.service_item
    lines = [
        t("notice.supplement_title"),
        "",
        t("notice.case", number=case.number, item=title),
        t("notice.applicant", name=case.applicant.name),
        "",
        t("notice.supplement_intro"),
    ]
    for index, row in enumerate(rows, start=1):
        reasons = row_findings(case, row) or [t("notice.reason_missing")]
        lines.append(f"  {index}. {_name(row)} — {'; '.join(reasons)}")
    lines += ["", t("notice.supplement_once")]
    return "\n".join(lines)


def owed_preview(case: Case) -> str:
    owed = [row for row in case.checklist or [] if row.status == "owed"]
    deadline = case.time_limit.deadline if case.time_limit else None
    due = deadline.isoformat() if deadline else t("owed.due_default")
    lines = [t("owed.intro"), ""]
    for index, row in enumerate(owed, start=1):
        lines.append(f"  {index}. {_name(row)} — {t('owed.due', date=due)}")
    if not owed:
        lines.append(t("owed.none"))
    return "\n".join(lines)
