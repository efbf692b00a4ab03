"""Provides `Row` and `merge_rows`: the lines of the side-by-side merge table built from the
server's preview, first the applicant's fields (those that differ, and name, ID number and phone
for orientation), then every material either case holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from api_client.models import MergePreview
from api_client.models.merges import ApplicantField
from screens.merge_text import side_text
from workbench.i18n import language, t

__all__ = ["SUMMARY_FIELDS", "Row", "merge_rows"]

SUMMARY_FIELDS: tuple[ApplicantField, ...] = ("name", "id_number", "phone")
"""The applicant's fields always shown (when either case has them), differing or not."""


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


def merge_rows(preview: MergePreview) -> list[Row]:
    """The table's rows for `preview` (the survivor on the left), in the language shown."""
    return applicant_rows(preview) + material_rows(preview)


def applicant_rows(preview: MergePreview) -> list[Row]:
    """The applicant's fields: the summary fields, then every other field that differs."""
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
    return rows


def material_rows(preview: MergePreview) -> list[Row]:
    """Every material either case holds (`*` marks one not on the survivor's checklist)."""
    zh = language() == "zh"
    rows: list[Row] = []
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
