"""Provides the checklist of a case (one row per required material of its service item) and
the clerk's verification of one material, with the catalogue's rules.

A material nobody has recorded yet is `pending`. The clerk records `provided` (as a sighted
original, a copy, an uploaded file or an e-licence), `missing`, `owed` (容缺: only where the
catalogue allows it, and only before acceptance) or `not_applicable` (optional materials only).
Every change bumps the row's `revision` (the one-time notice rule compares it) and the case's
version, and appends a `case.material_verified` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from api_client.identity import mask_resident_id
from api_client.models import MaterialVerification
from backend.cases.e_licences import attached_to_wire, usable_licence
from backend.cases.findings import MaterialFacts
from backend.db.event_log import Actor, append_event
from backend.db.schema import (
    case_checklist,
    case_materials,
    case_notices,
    cases,
    e_licences,
    materials,
)
from backend.problems import Conflict, InvalidInput, NotFound

FINAL_STATUSES = ("approved", "rejected", "withdrawn", "merged")
BEFORE_ACCEPTANCE = ("submitted", "under_review", "supplement_requested")


@dataclass(frozen=True)
class Checklist:
    """The checklist rows as sent on the wire and the facts the checks run on."""

    rows: list[dict[str, Any]]
    facts: list[MaterialFacts]

    def status_of(self, code: str) -> str:
        return next(row["status"] for row in self.rows if row["material"] == code)


def catalogue_materials(conn: Connection, service_item_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(materials)
            .where(materials.c.service_item_id == service_item_id)
            .order_by(materials.c.position)
        ).all()
    )


def catalogue_material(conn: Connection, service_item_id: int, code: str) -> Any:
    row = conn.execute(
        select(materials).where(
            materials.c.service_item_id == service_item_id, materials.c.code == code
        )
    ).first()
    if row is None:
        raise NotFound(f"The case's service item has no material {code!r}.")
    return row


def _recorded(conn: Connection, case_id: int) -> dict[str, Any]:
    rows = conn.execute(select(case_checklist).where(case_checklist.c.case_id == case_id))
    return {row.material_code: row for row in rows}


def _uploads(conn: Connection, case_id: int) -> dict[str, Any]:
    rows = conn.execute(
        select(case_materials)
        .where(case_materials.c.case_id == case_id)
        .order_by(case_materials.c.id)
    )
    return {row.material_code: row for row in rows}


def _licences(conn: Connection, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = conn.execute(select(e_licences).where(e_licences.c.id.in_(ids)))
    return {row.id: row for row in rows}


def requested_materials(conn: Connection, case_id: int) -> dict[str, tuple[str, int]]:
    """Material code → (number of the last supplement notice naming it, its revision then)."""
    requested: dict[str, tuple[str, int]] = {}
    notices = conn.execute(
        select(case_notices.c.number, case_notices.c.content)
        .where(case_notices.c.case_id == case_id, case_notices.c.kind == "supplement")
        .order_by(case_notices.c.id)
    )
    for number, content in notices:
        for code, revision in (content or {}).get("revisions", {}).items():
            requested[code] = (number, int(revision))
    return requested


def document_to_wire(document: dict[str, Any] | None) -> dict[str, Any] | None:
    if not document:
        return None
    wire = {key: value for key, value in document.items() if key != "id_number"}
    number = document.get("id_number")
    wire["id_number_masked"] = mask_resident_id(number) if number else None
    return wire


def load_checklist(conn: Connection, case_row: Any) -> Checklist:
    recorded = _recorded(conn, case_row.id)
    uploads = _uploads(conn, case_row.id)
    licences = _licences(conn, [r.e_licence_id for r in recorded.values() if r.e_licence_id])
    requested = requested_materials(conn, case_row.id)
    rows, facts = [], []
    for material in catalogue_materials(conn, case_row.service_item_id):
        row = recorded.get(material.code)
        upload = uploads.get(material.code)
        licence = licences.get(row.e_licence_id) if row and row.e_licence_id else None
        document = (row.document if row else None) or (upload.document if upload else None)
        rows.append(_row_to_wire(material, row, upload, licence, document, requested))
        facts.append(_facts(material, row, upload, licence, document))
    return Checklist(rows, facts)


def _row_to_wire(
    material: Any,
    row: Any,
    upload: Any,
    licence: Any,
    document: dict[str, Any] | None,
    requested: dict[str, tuple[str, int]],
) -> dict[str, Any]:
    return {
        "material": material.code,
        "name": material.name,
        "name_en": material.name_en,
        "mandatory": material.mandatory,
        "may_be_owed": material.may_be_owed,
        "e_licence_type": material.e_licence_type,
        "needs_expiry_check": material.needs_expiry_check,
        "kind": material.kind,
        "status": row.status if row else "pending",
        "provided_as": row.provided_as if row else None,
        "note": row.note if row else None,
        "document": document_to_wire(document),
        "e_licence": attached_to_wire(licence) if licence is not None else None,
        "file_sha256": row.file_sha256 if row else None,
        "uploaded": upload is not None,
        "owed_due_on": row.owed_due_on if row else None,
        "revision": row.revision if row else 0,
        "requested_in_notice": requested.get(material.code, (None, 0))[0],
        "updated_by": row.updated_by if row else None,
        "updated_at": row.updated_at if row else None,
    }


def _facts(
    material: Any, row: Any, upload: Any, licence: Any, document: dict[str, Any] | None
) -> MaterialFacts:
    return MaterialFacts(
        code=material.code,
        name=material.name,
        name_en=material.name_en,
        mandatory=material.mandatory,
        e_licence_type=material.e_licence_type,
        needs_expiry_check=material.needs_expiry_check,
        kind=material.kind,
        status=row.status if row else "pending",
        provided_as=row.provided_as if row else None,
        document=dict(document or {}),
        licence_holder_name=licence.holder_name if licence is not None else None,
        licence_valid_to=licence.valid_to if licence is not None else None,
        intake_sha256=upload.sha256 if upload is not None else None,
        file_sha256=row.file_sha256 if row else None,
        uploaded=upload is not None,
        owed_due_on=row.owed_due_on if row else None,
    )


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(
        message, errors=[{"loc": ["body", field], "msg": message, "type": "value_error"}]
    )


def check_allowed(case_row: Any, material: Any, body: MaterialVerification) -> None:
    """The catalogue's and the case's rules for recording this verification."""
    if case_row.status in FINAL_STATUSES:
        raise Conflict(
            f"Case {case_row.number} is {case_row.status}; its materials can no longer change.",
            current={"status": case_row.status, "version": case_row.version},
        )
    if body.status == "owed" and not material.may_be_owed:
        raise _refuse(
            f"The catalogue does not allow {material.name_en} ({material.name}) to be owed (容缺).",
            "status",
        )
    if body.status == "not_applicable" and material.mandatory:
        raise _refuse(
            f"{material.name_en} ({material.name}) is mandatory, so it cannot be marked "
            "not applicable.",
            "status",
        )
    if body.status == "owed" and case_row.status not in BEFORE_ACCEPTANCE:
        raise Conflict(
            f"Case {case_row.number} is already {case_row.status}: materials can only be "
            "marked owed before acceptance.",
            current={"status": case_row.status, "version": case_row.version},
        )


def record_verification(
    conn: Connection,
    *,
    case_row: Any,
    applicant_id_number: str,
    material_code: str,
    body: MaterialVerification,
    actor: Actor,
    now: datetime,
    today: date,
) -> None:
    material = catalogue_material(conn, case_row.service_item_id, material_code)
    check_allowed(case_row, material, body)
    document = body.document.model_dump(mode="json") if body.document else None
    if body.e_licence_id is not None:
        usable_licence(
            conn,
            body.e_licence_id,
            material=material,
            holder_id=applicant_id_number,
            of_applicant=document is None or document.get("of_applicant", True),
            today=today,
        )
    values = {
        "status": body.status,
        "provided_as": body.provided_as,
        "note": body.note,
        "document": document,
        "e_licence_id": body.e_licence_id,
        "file_sha256": body.file_sha256,
        "owed_due_on": None,
        "updated_by": actor.username,
        "updated_at": now,
    }
    revision = _upsert_row(conn, case_row.id, material_code, values)
    version = case_row.version + 1
    conn.execute(update(cases).where(cases.c.id == case_row.id).values(version=version))
    append_event(
        conn,
        hall_id=case_row.hall_id,
        type="case.material_verified",
        subject_type="case",
        subject_id=case_row.id,
        actor=actor,
        at=now,
        payload={
            "number": case_row.number,
            "material": material_code,
            "status": body.status,
            "provided_as": body.provided_as,
            "e_licence": body.e_licence_id,
            "revision": revision,
            "version": version,
        },
    )


def _upsert_row(conn: Connection, case_id: int, code: str, values: dict[str, Any]) -> int:
    existing = conn.execute(
        select(case_checklist.c.id, case_checklist.c.revision).where(
            case_checklist.c.case_id == case_id, case_checklist.c.material_code == code
        )
    ).first()
    if existing is None:
        conn.execute(
            insert(case_checklist).values(case_id=case_id, material_code=code, revision=1, **values)
        )
        return 1
    revision = int(existing.revision) + 1
    conn.execute(
        update(case_checklist)
        .where(case_checklist.c.id == existing.id)
        .values(revision=revision, **values)
    )
    return revision


def set_owed_due(conn: Connection, case_id: int, due: dict[str, date]) -> None:
    for code, due_on in due.items():
        conn.execute(
            update(case_checklist)
            .where(case_checklist.c.case_id == case_id, case_checklist.c.material_code == code)
            .values(owed_due_on=due_on)
        )
