"""Provides case intake: the applicant's record, the materials check and the new case with its
event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from api_client.models import CaseIntake
from backend.auth.sessions import Principal
from backend.cases.records import load_case
from backend.db.engine import inserted_id
from backend.db.event_log import Actor, append_event
from backend.db.schema import applicants, case_materials, cases, materials
from backend.hall.catalogue import hall_row, hall_timezone, service_item_by_code
from backend.hall.working_calendar import local_day
from backend.problems import InvalidInput


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
        inserted_id(
            conn.execute(
                insert(applicants).values(
                    kind=person.kind,
                    id_number=person.id_number,
                    name=person.name,
                    phone=person.phone,
                    birth_date=person.birth_date,
                    sex=person.sex,
                    details={},
                )
            )
        )
    )


def require_known_materials(conn: Connection, item: Any, codes: list[str]) -> None:
    """Refuse (422, naming the position) a material code the service item does not have."""
    known = set(
        conn.execute(
            select(materials.c.code).where(materials.c.service_item_id == item.id)
        ).scalars()
    )
    for index, code in enumerate(codes):
        if code not in known:
            raise InvalidInput(
                f"materials[{index}].material: {code!r} is not a material of "
                f"service item {item.code}.",
                errors=[
                    {
                        "loc": ["body", "materials", index, "material"],
                        "msg": "unknown material",
                        "type": "unknown",
                    }
                ],
            )


def intake_case(
    conn: Connection, *, hall_id: int, intake: CaseIntake, now: datetime, actor: Actor
) -> dict[str, Any]:
    item = service_item_by_code(conn, hall_id, intake.service_item, field="service_item")
    require_known_materials(conn, item, [m.material for m in intake.materials])
    applicant_id = upsert_applicant(conn, intake)
    hall = hall_row(conn, hall_id)
    case_id = int(
        inserted_id(
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
                    details={"declared": _declared(intake)},
                )
            )
        )
    )
    day = local_day(now, hall_timezone(conn, hall_id))  # the hall's day, as on its notices
    number = f"{hall.code}-{day:%Y%m%d}-{case_id:06d}"
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
                    "document": m.document.model_dump(mode="json") if m.document else None,
                }
                for m in intake.materials
            ],
        )
    case = load_case(conn, case_id, now=now)
    append_event(
        conn,
        hall_id=hall_id,
        type="case.submitted",
        subject_type="case",
        subject_id=case_id,
        actor=actor,
        at=now,
        payload=case_event_payload(case),
    )
    return case


def _declared(intake: CaseIntake) -> dict[str, Any]:
    person = intake.applicant
    return {
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "sex": person.sex,
    }


def case_event_payload(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": case["number"],
        "status": case["status"],
        "service_item": case["service_item"],
        "channel": case["channel"],
        "assignee": case["assignee"],
        "version": case["version"],
    }


def case_event(
    conn: Connection,
    row: Any,
    type_: str,
    principal: Principal,
    now: datetime,
    payload: dict[str, Any],
) -> None:
    append_event(
        conn,
        hall_id=row.hall_id,
        type=type_,
        subject_type="case",
        subject_id=row.id,
        actor=principal.actor,
        at=now,
        payload={"number": row.number, "service_item": row.item_code, **payload},
    )
