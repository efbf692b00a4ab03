"""Provides case intake, the case document (checklist, findings, time limit, decisions, notices),
listing with filters and keyset paging, and claiming (decisions: `backend.cases.decisions`)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, literal, or_, select, update

from api_client.identity import mask_phone, mask_resident_id
from api_client.models import CaseIntake
from backend.auth.sessions import Principal
from backend.cases.findings import ApplicantFacts, case_findings
from backend.cases.merge_links import merge_links
from backend.cases.time_limits import due_soon_bound, hall_day, time_limit, working_calendar
from backend.cases.verification import document_to_wire, load_checklist
from backend.db.engine import inserted_id
from backend.db.event_log import Actor, append_event
from backend.db.schema import (
    applicants,
    case_checklist,
    case_decisions,
    case_materials,
    case_notices,
    cases,
    materials,
    service_items,
    users,
    window_items,
)
from backend.hall.catalogue import hall_row, hall_rules, service_item_by_code
from backend.problems import InvalidInput, NotFound

CLAIMABLE_CHANNELS = ("online", "self_service", "appointment")


FAR_FUTURE = date(9999, 12, 31)
MAX_ID = 2**31 - 1  # ids are INTEGER columns (32-bit on PostgreSQL)


def encode_cursor(last_id: int, **extra: Any) -> str:
    data = json.dumps({"after": last_id, **extra}).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _bad_cursor() -> InvalidInput:
    return InvalidInput(
        "cursor: not a cursor this server gave out; start again without it.",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
    )


def decode_cursor_data(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"after": 0}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        value = data["after"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise ValueError
        return dict(data)
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise _bad_cursor() from exc


def decode_cursor(cursor: str | None) -> int:
    return int(decode_cursor_data(cursor)["after"])


@dataclass(frozen=True)
class HallDay:
    """What the time limits of one hall are computed against: its day and its settings."""

    today: date
    due_soon_days: int
    timezone: str


def hall_day_of(conn: Connection, hall_id: int, now: datetime | None) -> HallDay:
    rules = hall_rules(conn, hall_id)
    timezone = str(rules.get("timezone") or "Asia/Shanghai")
    today = hall_day(now or datetime.now(UTC), timezone)
    return HallDay(today, int(rules.get("due_soon_working_days", 1)), timezone)


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
        payload=_event_payload(case),
    )
    return case


def _declared(intake: CaseIntake) -> dict[str, Any]:
    person = intake.applicant
    return {
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "sex": person.sex,
    }


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


def case_time_limit(row: Any, day: HallDay) -> dict[str, Any]:
    return time_limit(
        clock=row.clock_state,
        accepted_on=row.accepted_on,
        completed_on=row.completed_on,
        promised_days=row.promised_days,
        details=row.details,
        today=day.today,
        due_soon_days=day.due_soon_days,
    )


def lock_case(conn: Connection, case_id: int) -> None:
    """Lock the case's row until the transaction ends (PostgreSQL; SQLite's writes are serial),
    so two clerks' changes based on the same version cannot both pass the version check."""
    conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update())


def case_row(conn: Connection, case_id: int) -> Any:
    """The case's row joined with its service item, applicant and assignee."""
    row = conn.execute(_case_select().where(cases.c.id == case_id)).first()
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


def completion_date(row: Any, limit: dict[str, Any], today: date) -> date:
    """The promised completion date, or the one acceptance today would promise."""
    deadline = limit.get("deadline")
    if isinstance(deadline, date):
        return deadline
    return working_calendar().add_working_days(today, row.promised_days)


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


def _owed_codes(conn: Connection, case_ids: list[int]) -> dict[int, list[str]]:
    owed: dict[int, list[str]] = {}
    if not case_ids:
        return owed
    rows = conn.execute(
        select(case_checklist.c.case_id, case_checklist.c.material_code)
        .where(case_checklist.c.case_id.in_(case_ids), case_checklist.c.status == "owed")
        .order_by(case_checklist.c.id)
    )
    for case_id, code in rows:
        owed.setdefault(case_id, []).append(code)
    return owed


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


@dataclass(frozen=True)
class CaseFilter:
    """What `GET /cases` narrows the list by and how it orders it."""

    status: str | None = None
    channel: str | None = None
    service_item: str | None = None
    assignee: str | None = None
    applicant_id_number: str | None = None
    clock_status: str | None = None
    sort: str = "id"


def _deadline_key() -> Any:
    return func.coalesce(cases.c.deadline_on, literal(FAR_FUTURE))


def _clock_condition(clock_status: str, day: HallDay) -> Any:
    if clock_status == "paused":
        return cases.c.clock_state == "paused"
    running = cases.c.clock_state == "running"
    bound = due_soon_bound(day.today, day.due_soon_days)
    if clock_status == "overdue":
        return and_(running, cases.c.deadline_on < day.today)
    if clock_status == "due_soon":
        return and_(running, cases.c.deadline_on >= day.today, cases.c.deadline_on < bound)
    return and_(running, cases.c.deadline_on >= bound)


def _after(cursor: dict[str, Any], sort: str) -> Any:
    after_id = int(cursor["after"])
    if sort != "deadline" or "deadline" not in cursor:
        return cases.c.id > after_id
    try:
        last = date.fromisoformat(str(cursor["deadline"]))
    except ValueError as exc:
        raise _bad_cursor() from exc
    key = _deadline_key()
    return or_(key > last, and_(key == last, cases.c.id > after_id))


def list_cases(
    conn: Connection,
    *,
    hall_id: int,
    filters: CaseFilter,
    cursor: dict[str, Any],
    limit: int,
    now: datetime,
) -> list[dict[str, Any]]:
    day = hall_day_of(conn, hall_id, now)
    where = [cases.c.hall_id == hall_id, _after(cursor, filters.sort)]
    if filters.status:
        where.append(cases.c.status == filters.status)
    if filters.channel:
        where.append(cases.c.channel == filters.channel)
    if filters.service_item:
        item = service_item_by_code(conn, hall_id, filters.service_item, field="service_item")
        where.append(cases.c.service_item_id == item.id)
    if filters.assignee:
        where.append(users.c.username == filters.assignee)
    if filters.applicant_id_number:
        where.append(applicants.c.id_number == filters.applicant_id_number)
    if filters.clock_status:
        where.append(_clock_condition(filters.clock_status, day))
    order = [_deadline_key(), cases.c.id] if filters.sort == "deadline" else [cases.c.id]
    rows = conn.execute(_case_select().where(*where).order_by(*order).limit(limit)).all()
    ids = [r.id for r in rows]
    mats: dict[int, list[Any]] = {}
    if rows:
        for m in conn.execute(
            select(case_materials)
            .where(case_materials.c.case_id.in_(ids))
            .order_by(case_materials.c.id)
        ):
            mats.setdefault(m.case_id, []).append(m)
    owed = _owed_codes(conn, ids)
    items = []
    for r in rows:
        wire = case_to_wire(r, mats.get(r.id, []), day)
        wire["owed"] = owed.get(r.id, [])
        wire["_deadline"] = (r.deadline_on or FAR_FUTURE).isoformat()
        items.append(wire)
    return items


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
    case = load_case(conn, case_id, now=now)
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
