"""Provides the plan of a merge (whether two cases can merge, and what merging them would do)
and the side-by-side preview the clerk sees before merging."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from api_client.identity import mask_phone, mask_resident_id
from backend.cases.merge_links import refuse_merged
from backend.cases.records import case_row
from backend.cases.verification import document_to_wire
from backend.db.paging import MAX_ID
from backend.db.schema import case_checklist, case_materials, tickets
from backend.hall.catalogue import item_materials
from backend.merges.candidates import case_summary
from backend.problems import InvalidInput, MergeRefused, NotFound

CLOSED = ("approved", "rejected", "withdrawn")


APPLICANT_FIELDS = ("id_number", "name", "phone", "birth_date", "sex")


@dataclass
class MaterialRow:
    """One material code, both sides' holdings and the default choice."""

    code: str
    name: str | None
    name_en: str | None
    on_checklist: bool
    survivor: dict[str, Any] | None
    absorbed: dict[str, Any] | None
    default: str


@dataclass
class Plan:
    survivor: Any
    absorbed: Any
    differences: list[dict[str, Any]]
    mismatch: bool
    materials: list[MaterialRow]
    time_limit_from: str | None
    tickets: list[int]
    survivor_values: dict[str, Any] = field(default_factory=dict)
    absorbed_values: dict[str, Any] = field(default_factory=dict)


def refuse_self_merge(other: int, this: int) -> None:
    if other == this:
        raise InvalidInput(
            "other_case: a case cannot be merged into itself.",
            errors=[{"loc": ["body", "other_case"], "msg": "same case", "type": "value_error"}],
        )


def other_case_row(conn: Connection, other_id: int, field_loc: list[str | int]) -> Any:
    try:
        if other_id > MAX_ID:
            raise NotFound(f"There is no case {other_id}.")
        return case_row(conn, other_id)
    except NotFound as exc:
        raise InvalidInput(
            f"{field_loc[-1]}: there is no case {other_id}.",
            errors=[{"loc": field_loc, "msg": "unknown case", "type": "unknown"}],
        ) from exc


def plan_merge(conn: Connection, this_id: int, other_id: int, survivor_side: str) -> Plan:
    """Check that the two cases can be merged and work out what merging would do."""
    refuse_self_merge(other_id, this_id)
    this = case_row(conn, this_id)
    other = other_case_row(conn, other_id, ["body", "other_case"])
    if other.hall_id != this.hall_id:
        raise MergeRefused(
            f"Case {other.number} belongs to another hall; cases merge only within one hall."
        )
    survivor, absorbed = (this, other) if survivor_side == "this" else (other, this)
    for row, role in ((survivor, "into"), (absorbed, "from")):
        refuse_merged(conn, row)
        if row.status in CLOSED:
            raise MergeRefused(
                f"Case {row.number} is {row.status}: a closed case cannot be merged {role}.",
                current={"status": row.status, "version": row.version},
            )
    if survivor.accepted_on is not None and absorbed.accepted_on is not None:
        raise MergeRefused(
            f"Cases {survivor.number} and {absorbed.number} both have an acceptance (受理) "
            "decision, each with its own notice and promised time limit; they cannot be merged."
        )
    differences, survivor_values, absorbed_values = _applicant_differences(survivor, absorbed)
    time_limit_from = None
    if survivor.accepted_on is not None:
        time_limit_from = "survivor"
    elif absorbed.accepted_on is not None:
        time_limit_from = "absorbed"
    moved = conn.execute(select(tickets.c.id).where(tickets.c.case_id == absorbed.id)).scalars()
    ticket_ids = sorted({*moved, *([absorbed.ticket_id] if absorbed.ticket_id else [])})
    return Plan(
        survivor=survivor,
        absorbed=absorbed,
        differences=differences,
        mismatch=survivor.applicant_id_number != absorbed.applicant_id_number,
        materials=_material_rows(conn, survivor, absorbed),
        time_limit_from=time_limit_from,
        tickets=ticket_ids,
        survivor_values=survivor_values,
        absorbed_values=absorbed_values,
    )


def _applicant_values(row: Any) -> dict[str, Any]:
    declared = (row.details or {}).get("declared") or {}
    record_birth = row.applicant_birth_date.isoformat() if row.applicant_birth_date else None
    return {
        "id_number": row.applicant_id_number,
        "name": row.applicant_name,
        "phone": row.applicant_phone,
        "birth_date": declared.get("birth_date") or record_birth,
        "sex": declared.get("sex") or row.applicant_sex,
    }


def _masked(field_name: str, value: Any) -> str | None:
    if value is None:
        return None
    if field_name == "id_number":
        return mask_resident_id(str(value))
    if field_name == "phone":
        return mask_phone(str(value))
    return str(value)


def _applicant_differences(
    survivor: Any, absorbed: Any
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    mine, theirs = _applicant_values(survivor), _applicant_values(absorbed)
    differences = [
        {
            "field": name,
            "survivor": _masked(name, mine[name]),
            "absorbed": _masked(name, theirs[name]),
        }
        for name in APPLICANT_FIELDS
        if mine[name] is not None and theirs[name] is not None and mine[name] != theirs[name]
    ]
    return differences, mine, theirs


def _material_wire(m: Any) -> dict[str, Any]:
    return {
        "material": m.material_code,
        "file_name": m.file_name,
        "content_type": m.content_type,
        "size": m.size,
        "sha256": m.sha256,
        "origin": m.origin,
        "document": document_to_wire(m.document),
        "merged_from": m.merged_from,
    }


def _holdings(conn: Connection, row: Any) -> dict[str, dict[str, Any]]:
    """Material code → what the case holds for it: its checklist row and its items."""
    held: dict[str, dict[str, Any]] = {}
    for check in conn.execute(select(case_checklist).where(case_checklist.c.case_id == row.id)):
        held.setdefault(check.material_code, {"check": None, "uploads": []})["check"] = check
    for item in conn.execute(
        select(case_materials)
        .where(case_materials.c.case_id == row.id)
        .order_by(case_materials.c.id)
    ):
        held.setdefault(item.material_code, {"check": None, "uploads": []})["uploads"].append(item)
    for code, holding in held.items():
        check = holding["check"]
        holding["code"] = code
        holding["verified"] = check is not None and check.status == "provided"
        holding["time"] = check.updated_at if check is not None and check.updated_at else None
        holding["time"] = holding["time"] or row.submitted_at
    return held


def _default(survivor: dict[str, Any] | None, absorbed: dict[str, Any] | None) -> str:
    if absorbed is None:
        return "survivor"
    if survivor is None:
        return "absorbed"
    if survivor["verified"] != absorbed["verified"]:
        return "survivor" if survivor["verified"] else "absorbed"
    return "absorbed" if absorbed["time"] > survivor["time"] else "survivor"


def _material_rows(conn: Connection, survivor: Any, absorbed: Any) -> list[MaterialRow]:
    mine, theirs = _holdings(conn, survivor), _holdings(conn, absorbed)
    own_catalogue = item_materials(conn, survivor.service_item_id)
    other_catalogue = item_materials(conn, absorbed.service_item_id)
    order = [*own_catalogue, *[c for c in other_catalogue if c not in own_catalogue]]
    codes = [c for c in order if c in mine or c in theirs]
    codes += sorted((set(mine) | set(theirs)) - set(codes))
    rows = []
    for code in codes:
        entry = own_catalogue.get(code) or other_catalogue.get(code)
        rows.append(
            MaterialRow(
                code=code,
                name=entry.name if entry is not None else None,
                name_en=entry.name_en if entry is not None else None,
                on_checklist=code in own_catalogue,
                survivor=mine.get(code),
                absorbed=theirs.get(code),
                default=_default(mine.get(code), theirs.get(code)),
            )
        )
    return rows


def _side_wire(holding: dict[str, Any] | None) -> dict[str, Any] | None:
    if holding is None:
        return None
    check = holding["check"]
    return {
        "status": check.status if check is not None else "pending",
        "provided_as": check.provided_as if check is not None else None,
        "verified": holding["verified"],
        "updated_at": check.updated_at if check is not None else None,
        "items": [_material_wire(m) for m in holding["uploads"]],
    }


def preview(conn: Connection, this_id: int, other_id: int, survivor_side: str) -> dict[str, Any]:
    plan = plan_merge(conn, this_id, other_id, survivor_side)
    limit_row = plan.absorbed if plan.time_limit_from == "absorbed" else plan.survivor
    return {
        "survivor": case_summary(plan.survivor),
        "absorbed": case_summary(plan.absorbed),
        "applicant_mismatch": plan.mismatch,
        "differences": plan.differences,
        "materials": [
            {
                "material": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "on_survivor_checklist": r.on_checklist,
                "survivor": _side_wire(r.survivor),
                "absorbed": _side_wire(r.absorbed),
                "default": r.default,
                "differs": r.survivor is not None and r.absorbed is not None,
            }
            for r in plan.materials
        ],
        "time_limit_from": plan.time_limit_from,
        "deadline": limit_row.deadline_on if plan.time_limit_from else None,
        "ticket": plan.survivor.ticket_id or (plan.tickets[0] if plan.tickets else None),
    }
