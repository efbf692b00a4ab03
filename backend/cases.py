"""Provides case intake, listing and claiming (decisions on cases live in their own module)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from api_client.identity import mask_phone, mask_resident_id
from api_client.models import CaseIntake
from backend.catalogue import hall_row, service_item_by_code
from backend.db.schema import (
    applicants,
    case_materials,
    cases,
    materials,
    service_items,
    users,
    window_items,
)
from backend.event_log import Actor, append_event
from backend.problems import InvalidInput, NotFound

CLAIMABLE_CHANNELS = ("online", "self_service", "appointment")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))["after"]
        if not isinstance(value, int) or value < 0:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidInput(
            "cursor: not a cursor this server gave out; start again without it.",
            errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
        ) from exc


def upsert_applicant(conn: Connection, intake: CaseIntake) -> int:
    person = intake.applicant
    existing = conn.execute(
        select(applicants.c.id).where(applicants.c.id_number == person.id_number)
    ).scalar()
    if existing is not None:
        if person.phone:
            conn.execute(
                update(applicants).where(applicants.c.id == existing).values(phone=person.phone)
            )
        return int(existing)
    return int(
        conn.execute(
            insert(applicants).values(
                kind=person.kind,
                id_number=person.id_number,
                name=person.name,
                phone=person.phone,
                details={},
            )
        ).inserted_primary_key[0]
    )


def intake_case(
    conn: Connection, *, hall_id: int, intake: CaseIntake, now: datetime, actor: Actor
) -> dict[str, Any]:
    item = service_item_by_code(conn, hall_id, intake.service_item, field="service_item")
    known = set(
        conn.execute(
            select(materials.c.code).where(materials.c.service_item_id == item.id)
        ).scalars()
    )
    for index, material in enumerate(intake.materials):
        if material.material not in known:
            raise InvalidInput(
                f"materials[{index}].material: {material.material!r} is not a material of "
                f"service item {item.code}.",
                errors=[
                    {
                        "loc": ["body", "materials", index, "material"],
                        "msg": "unknown material",
                        "type": "unknown",
                    }
                ],
            )
    applicant_id = upsert_applicant(conn, intake)
    hall = hall_row(conn, hall_id)
    case_id = int(
        conn.execute(
            insert(cases).values(
                hall_id=hall_id,
                number=f"pending-{now.timestamp()}-{applicant_id}",
                service_item_id=item.id,
                applicant_id=applicant_id,
                channel=intake.channel,
                status="submitted",
                submitted_at=now,
                portal_reference=intake.portal_reference,
                details={},
            )
        ).inserted_primary_key[0]
    )
    number = f"{hall.code}-{now:%Y%m%d}-{case_id:06d}"
    conn.execute(update(cases).where(cases.c.id == case_id).values(number=number))
    if intake.materials:
        conn.execute(
            insert(case_materials),
            [
                {
                    "case_id": case_id,
                    "material_code": m.material,
                    "origin": "online_upload",
                    "file_name": m.file_name,
                    "content_type": m.content_type,
                    "size": m.size,
                    "sha256": m.sha256,
                }
                for m in intake.materials
            ],
        )
    case = load_case(conn, case_id)
    append_event(
        conn,
        hall_id=hall_id,
        type="case.submitted",
        subject_type="case",
        subject_id=case_id,
        actor=actor,
        at=now,
        payload=_event_payload(case),
    )
    return case


def _event_payload(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": case["number"],
        "status": case["status"],
        "service_item": case["service_item"],
        "channel": case["channel"],
        "assignee": case["assignee"],
        "version": case["version"],
    }


def _case_select() -> Any:
    return (
        select(
            cases,
            service_items.c.code.label("item_code"),
            applicants.c.kind.label("applicant_kind"),
            applicants.c.id_number.label("applicant_id_number"),
            applicants.c.name.label("applicant_name"),
            applicants.c.phone.label("applicant_phone"),
            users.c.username.label("assignee_username"),
        )
        .join(service_items, service_items.c.id == cases.c.service_item_id)
        .join(applicants, applicants.c.id == cases.c.applicant_id)
        .outerjoin(users, users.c.id == cases.c.assignee_id)
    )


def case_to_wire(row: Any, materials_rows: list[Any]) -> dict[str, Any]:
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
            }
            for m in materials_rows
        ],
        "version": row.version,
    }


def load_case(conn: Connection, case_id: int) -> dict[str, Any]:
    row = conn.execute(_case_select().where(cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"There is no case {case_id}.")
    mats = conn.execute(
        select(case_materials)
        .where(case_materials.c.case_id == case_id)
        .order_by(case_materials.c.id)
    ).all()
    return case_to_wire(row, list(mats))


def case_hall(conn: Connection, case_id: int) -> int:
    hall_id = conn.execute(select(cases.c.hall_id).where(cases.c.id == case_id)).scalar()
    if hall_id is None:
        raise NotFound(f"There is no case {case_id}.")
    return int(hall_id)


def list_cases(
    conn: Connection,
    *,
    hall_id: int,
    status: str | None,
    channel: str | None,
    service_item: str | None,
    assignee: str | None,
    applicant_id_number: str | None,
    after_id: int,
    limit: int,
) -> list[dict[str, Any]]:
    where = [cases.c.hall_id == hall_id, cases.c.id > after_id]
    if status:
        where.append(cases.c.status == status)
    if channel:
        where.append(cases.c.channel == channel)
    if service_item:
        item = service_item_by_code(conn, hall_id, service_item, field="service_item")
        where.append(cases.c.service_item_id == item.id)
    if assignee:
        where.append(users.c.username == assignee)
    if applicant_id_number:
        where.append(applicants.c.id_number == applicant_id_number)
    rows = conn.execute(_case_select().where(*where).order_by(cases.c.id).limit(limit)).all()
    mats: dict[int, list[Any]] = {}
    if rows:
        for m in conn.execute(
            select(case_materials)
            .where(case_materials.c.case_id.in_([r.id for r in rows]))
            .order_by(case_materials.c.id)
        ):
            mats.setdefault(m.case_id, []).append(m)
    return [case_to_wire(r, mats.get(r.id, [])) for r in rows]


def claim_next_case(
    conn: Connection,
    *,
    hall_id: int,
    user_id: int,
    window_id: int | None,
    now: datetime,
    actor: Actor,
) -> dict[str, Any] | None:
    conditions = [
        cases.c.hall_id == hall_id,
        cases.c.status == "submitted",
        cases.c.assignee_id.is_(None),
        cases.c.channel.in_(CLAIMABLE_CHANNELS),
    ]
    if window_id is not None:
        served = select(window_items.c.service_item_id).where(window_items.c.window_id == window_id)
        conditions.append(cases.c.service_item_id.in_(served))
    statement = select(cases.c.id).where(and_(*conditions)).order_by(cases.c.id).limit(1)
    if conn.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    case_id = conn.execute(statement).scalar()
    if case_id is None:
        return None
    conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.assignee_id.is_(None))
        .values(
            assignee_id=user_id,
            status="under_review",
            claimed_at=now,
            version=cases.c.version + 1,
        )
    )
    case = load_case(conn, case_id)
    append_event(
        conn,
        hall_id=hall_id,
        type="case.claimed",
        subject_type="case",
        subject_id=case_id,
        actor=actor,
        at=now,
        payload=_event_payload(case),
    )
    return case
