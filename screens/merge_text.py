"""Provides the merge texts the screens share: a candidate's line, one side of a material, a
merge record's line, and the provenance block of a case (what was merged, where each item came
from). Plain functions of the models; all wording comes from the catalogue."""

from __future__ import annotations

from textual.markup import escape

from api_client.models import Case, MergeCandidate, MergeRecord
from api_client.models.merges import CaseSummary, MergeMaterialSide
from workbench.hall_time import hall_clock
from workbench.i18n import language, t

__all__ = [
    "candidate_lines",
    "case_label",
    "merge_lines",
    "record_line",
    "side_text",
]


def case_label(case: CaseSummary) -> str:
    """`DL-ZS-20260302-000012  online · submitted`."""
    return f"{case.number}  {t('channel.' + case.channel)} · {t('status.case.' + case.status)}"


def candidate_lines(candidate: MergeCandidate) -> tuple[str, str]:
    """Two lines: the case and its applicant; why it matched and how strongly."""
    case = candidate.case
    first = f"{case_label(case)}  {case.applicant.name} {case.applicant.id_number_masked}"
    reasons = ", ".join(t(f"merge.reason.{reason}") for reason in candidate.reasons)
    second = t(
        "merge.why",
        match=t(f"merge.match.{candidate.match}"),
        score=candidate.score,
        reasons=reasons,
    )
    if candidate.blocked:
        second += "  " + t("merge.blocked", reason=candidate.blocked)
    return first, second


def side_text(side: MergeMaterialSide | None) -> str:
    """What one case holds for a material: its check, and where its items came from."""
    if side is None:
        return t("merge.side.none")
    parts = [t(f"material.{side.status}")]
    if side.provided_as:
        parts.append(t(f"provided.{side.provided_as}"))
    if side.verified:
        parts[-1] += " ✔"
    origins = [_origin(item.origin, item.merged_from) for item in side.items]
    if origins:
        parts.append(", ".join(origins))
    return " · ".join(parts)


def _origin(origin: str, merged_from: str | None) -> str:
    text = t(f"merge.origin.{origin}")
    return f"{text} ({t('merge.from', number=merged_from)})" if merged_from else text


def record_line(record: MergeRecord) -> str:
    """One merge as the history lists it: who merged what when, and whether it can be undone."""
    when = hall_clock().local(record.merged_at).strftime("%m-%d %H:%M")
    line = t(
        "merge.record",
        id=record.id,
        when=when,
        who=record.merged_by or "-",
        absorbed=record.absorbed.number,
        survivor=record.survivor.number,
    )
    if record.state == "undone":
        undone = (
            hall_clock().local(record.unmerged_at).strftime("%m-%d %H:%M")
            if record.unmerged_at
            else ""
        )
        return f"{line}\n   {t('merge.record_undone', when=undone, who=record.unmerged_by or '-')}"
    if record.can_unmerge:
        until = hall_clock().local(record.unmerge_until).strftime("%m-%d %H:%M")
        return f"{line}\n   {t('merge.record_undoable', until=until)}"
    return f"{line}\n   {t('merge.record_blocked', reason=record.unmerge_blocked or '-')}"


def merge_lines(case: Case) -> list[str]:
    """The case screen's provenance block (Textual markup): the merge it is part of and where
    each of its material items came from."""
    lines: list[str] = []
    if case.merged_into is not None:
        lines.append(
            f"[b $warning]{t('merge.case_merged_into', number=case.merged_into.number)}[/]"
        )
    for link in case.merged_from:
        lines.append(f"[$secondary]{t('merge.case_merged_from', number=link.number)}[/]")
    if not case.materials:
        return lines
    names = {
        row.material: (row.name if language() == "zh" else row.name_en)
        for row in case.checklist or []
    }
    lines.append("")
    lines.append(f"[b]{t('merge.items_title')}[/b]")
    for item in case.materials:
        name = names.get(item.material, item.material)
        where = _origin(item.origin, item.merged_from)
        label = f"  {escape(item.file_name)}" if item.file_name else ""
        lines.append(f"• {escape(name)} — {where}{label}")
    return lines
