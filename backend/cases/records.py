"""Provides the case document (checklist, findings, time limit, decisions, notices, merges) and
the one SELECT of a case row it is built from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from api_client.identity import mask_phone, mask_resident_id
from backend.cases.findings import ApplicantFacts, case_findings
from backend.cases.merge_links import merge_links
from backend.cases.time_limits import HallDay, case_time_limit, completion_date, hall_day_of
from backend.cases.verification import document_to_wire, load_checklist
from backend.db.schema import (
    applicants,
    case_decisions,
    case_materials,
    case_notices,
    cases,
    service_items,
    users,
)
from backend.problems import NotFound


def case_select() -> Any:
    return (
        select(
            cases,
            service_items.c.code.label("item_code"),
            applicants.c.kind.label("applicant_kind"),
            applicants.c.id_number.label("applicant_id_number"),
            applicants.c.name.label("applicant_name"),
            applicants.c.phone.label("applicant_phone"),
            applicants.c.birth_date.label("applicant_birth_date"),
            applicants.c.sex.label("applicant_sex"),
            service_items.c.promised_days.label("promised_days"),
            users.c.username.label("assignee_username"),
        )
        .join(service_items, service_items.c.id == cases.c.service_item_id)
        .join(applicants, applicants.c.id == cases.c.applicant_id)
        .outerjoin(users, users.c.id == cases.c.assignee_id)
    )


def case_to_wire(row: Any, materials_rows: list[Any], day: HallDay | None = None) -> dict[str, Any]:
    id_number = row.applicant_id_number
    return {
        "id": row.id,
        "number": row.number,
        "service_item": row.item_code,
        "channel": row.channel,
        "status": row.status,
        "applicant": {
            "kind": row.applicant_kind,
            "id_number_masked": mask_resident_id(id_number),
            "name": row.applicant_name,
            "phone_masked": mask_phone(row.applicant_phone) if row.applicant_phone else None,
        },
        "assignee": row.assignee_username,
        "submitted_at": row.submitted_at,
        "claimed_at": row.claimed_at,
        "portal_reference": row.portal_reference,
        "ticket_id": row.ticket_id,
        "materials": [
            {
                "material": m.material_code,
                "file_name": m.file_name,
                "content_type": m.content_type,
                "size": m.size,
                "sha256": m.sha256,
                "origin": m.origin,
                "document": document_to_wire(m.document),
                "merged_from": m.merged_from,
            }
            for m in materials_rows
        ],
        "version": row.version,
        "time_limit": case_time_limit(row, day) if day is not None else None,
    }


def lock_case(conn: Connection, case_id: int) -> None:
    """Lock the case's row until the transaction ends (PostgreSQL; SQLite's writes are serial),
    so two clerks' changes based on the same version cannot both pass the version check."""
    conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update())


def case_row(conn: Connection, case_id: int) -> Any:
    """The case's row joined with its service item, applicant and assignee."""
    row = conn.execute(case_select().where(cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"There is no case {case_id}.")
    return row


def applicant_facts(row: Any) -> ApplicantFacts:
    declared = (row.details or {}).get("declared") or {}
    birth = declared.get("birth_date")
    return ApplicantFacts(
        kind=row.applicant_kind,
        id_number=row.applicant_id_number,
        name=row.applicant_name,
        record_birth_date=row.applicant_birth_date,
        record_sex=row.applicant_sex,
        declared_birth_date=date.fromisoformat(birth) if birth else None,
        declared_sex=declared.get("sex"),
    )


def _decisions(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(case_decisions)
        .where(case_decisions.c.case_id == case_id)
        .order_by(case_decisions.c.id)
    )
    return [
        {
            "id": r.id,
            "decision": r.decision,
            "from_status": r.from_status,
            "to_status": r.to_status,
            "actor": r.actor,
            "at": r.at,
            "reason_code": r.reason_code,
            "note": r.note,
            "notice": r.notice_id,
            "details": r.details or {},
        }
        for r in rows
    ]


def notice_ref(
    case_id: int, notice_id: int, kind: str, number: str, at: datetime
) -> dict[str, Any]:
    base = f"/api/v1/cases/{case_id}/notices/{notice_id}"
    return {
        "id": notice_id,
        "kind": kind,
        "number": number,
        "issued_at": at,
        "pdf_url": f"{base}.pdf",
        "text_url": f"{base}.txt",
    }


def _notices(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(case_notices.c.id, case_notices.c.kind, case_notices.c.number)
        .add_columns(case_notices.c.issued_at)
        .where(case_notices.c.case_id == case_id)
        .order_by(case_notices.c.id)
    )
    return [notice_ref(case_id, r.id, r.kind, r.number, r.issued_at) for r in rows]


def full_case(
    conn: Connection, row: Any, materials_rows: list[Any], day: HallDay
) -> dict[str, Any]:
    """The single-case answer: the list fields plus checklist, findings, decisions, notices."""
    wire = case_to_wire(row, materials_rows, day)
    checklist = load_checklist(conn, row)
    completion = completion_date(row, wire["time_limit"], day.today)
    wire["checklist"] = checklist.rows
    wire["findings"] = case_findings(
        applicant_facts(row), checklist.facts, today=day.today, completion_date=completion
    )
    wire["decisions"] = _decisions(conn, row.id)
    wire["notices"] = _notices(conn, row.id)
    wire["owed"] = [r["material"] for r in checklist.rows if r["status"] == "owed"]
    wire.update(merge_links(conn, row.id))
    return wire


def load_case(conn: Connection, case_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The whole case document as `GET /cases/{case}` answers it, as of `now`."""
    row = case_row(conn, case_id)
    mats = conn.execute(
        select(case_materials)
        .where(case_materials.c.case_id == case_id)
        .order_by(case_materials.c.id)
    ).all()
    return full_case(conn, row, list(mats), hall_day_of(conn, row.hall_id, now))


def case_hall(conn: Connection, case_id: int) -> int:
    hall_id = conn.execute(select(cases.c.hall_id).where(cases.c.id == case_id)).scalar()
    if hall_id is None:
        raise NotFound(f"There is no case {case_id}.")
    return int(hall_id)
