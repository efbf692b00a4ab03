"""Provides the case screen's texts: the guideline, findings, decisions and notice previews.

Pure functions of the case and the catalogue (no Textual), so they are easy to test and the
screen module stays about layout and keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from api_client.models import Case, ChecklistRow, ServiceItem
from api_client.models.decisions import DECISION_SOURCES
from workbench.i18n import language, t

__all__ = [
    "guideline_text",
    "missing_rows",
    "owed_preview",
    "row_findings",
    "supplement_preview",
    "supplement_rows",
    "unavailable_decisions",
]


def _zh() -> bool:
    return language() == "zh"


def _days(n: int) -> str:
    return t("guide.day_one") if n == 1 else t("guide.days", n=n)


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


def _already_requested(case: Case, row: ChecklistRow) -> bool:
    """Whether a supplement notice asked for this row and the row has not changed since (the
    one-time notice rule refuses to ask for it again). Unsure cases count as changed."""
    notice = next(
        (
            n
            for n in case.notices or []
            if n.number == row.requested_in_notice and n.kind == "supplement"
        ),
        None,
    )
    if notice is None or row.updated_at is None:
        return False
    return row.updated_at < notice.issued_at


def supplement_rows(case: Case) -> list[ChecklistRow]:
    """The rows a new supplement notice may list: missing or defective, not already requested
    and unchanged since."""
    return [row for row in missing_rows(case) if not _already_requested(case, row)]


def _count(key: str, n: int, **values: object) -> str:
    return t(f"{key}_one" if n == 1 else key, n=n, **values)


def _with_local(case: Case, local: Mapping[str, str]) -> Case:
    """The case as it will be once the clerk's marks still on their way are recorded."""
    if not local or not case.checklist:
        return case
    rows = [
        row.model_copy(update={"status": local[row.material], "requested_in_notice": None})
        if row.material in local
        else row
        for row in case.checklist
    ]
    findings = [f for f in case.findings or [] if f.material not in local]
    return case.model_copy(update={"checklist": rows, "findings": findings})


def _errors(case: Case) -> int:
    """Error findings other than an absent material (the statuses tell that, marks included)."""
    return sum(
        1 for f in case.findings or [] if f.severity == "error" and f.code != "material_absent"
    )


def _acceptance_blocker(case: Case, *, owed_allowed: bool) -> str | None:
    rows = case.checklist or []
    allowed = ("provided", "owed") if owed_allowed else ("provided",)
    lacking = [r for r in rows if r.mandatory and r.status not in allowed]
    owed = [r for r in rows if r.status == "owed"]
    if lacking:
        owable = all(r.may_be_owed for r in lacking)
        key = "case_guard.lacking_owable" if owable and not owed_allowed else "case_guard.lacking"
        return _count(key, len(lacking))
    if owed and not owed_allowed:
        return _count("case_guard.owed_marked", len(owed))
    if errors := _errors(case):
        return _count("case_guard.errors", errors)
    if owed_allowed and not owed:
        return t("case_guard.none_owed")
    return None


def _approval_blocker(case: Case) -> str | None:
    owed = [r for r in case.checklist or [] if r.status == "owed"]
    return _count("case_guard.still_owed", len(owed)) if owed else None


def _supplement_blocker(case: Case) -> str | None:
    if supplement_rows(case):
        return None
    requested = [r for r in missing_rows(case) if _already_requested(case, r)]
    if requested:
        return t("case_guard.already_requested", notice=requested[0].requested_in_notice)
    return t("case_guard.nothing_missing")


def unavailable_decisions(case: Case, local: Mapping[str, str]) -> dict[str, str]:
    """Decision → why the server would refuse it now, by the rules `backend/cases/decisions.py`
    applies to the case's status and checklist (`local`: marks not yet recorded). Decisions
    whose outcome is unsure are left available: the server has the last word."""
    status = t(f"status.case.{case.status}")
    resumes_accepted = case.time_limit is not None and case.time_limit.accepted_on is not None
    unavailable: dict[str, str] = {}
    for kind, sources in DECISION_SOURCES.items():
        if case.status not in sources:
            unavailable[kind] = t("case_guard.not_now", status=status)
        elif kind in ("accept", "accept_with_owed") and resumes_accepted:
            unavailable[kind] = t("case_guard.already_accepted")
    view = _with_local(case, local)
    blockers = {
        "accept": lambda: _acceptance_blocker(view, owed_allowed=False),
        "accept_with_owed": lambda: _acceptance_blocker(view, owed_allowed=True),
        "approve": lambda: _approval_blocker(view),
        "supplement": lambda: _supplement_blocker(view),
    }
    for decision, blocker in blockers.items():
        if decision not in unavailable and (reason := blocker()) is not None:
            unavailable[decision] = reason
    return unavailable


def _name(row: ChecklistRow) -> str:
    return row.name if _zh() else row.name_en


def supplement_preview(case: Case, item: ServiceItem | None) -> str:
    rows = supplement_rows(case)
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
        # the line names the material already: "not supplied" rather than the finding's
        # sentence that names it again (the server's notice does the same)
        found = [f for f in case.findings or [] if f.material == row.material]
        reasons = [
            f.message_zh if _zh() else f.message_en for f in found if f.code != "material_absent"
        ] or [t("notice.reason_missing")]
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
