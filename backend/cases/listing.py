"""Provides the case list (filters, sorts, keyset paging) and claiming the next online
application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, literal, or_, select, update

from backend.cases.intake import case_event_payload
from backend.cases.records import case_select, case_to_wire, load_case
from backend.cases.time_limits import HallDay, due_soon_bound, hall_day_of
from backend.db.event_log import Actor, append_event
from backend.db.paging import bad_cursor
from backend.db.schema import applicants, case_checklist, case_materials, cases, users, window_items
from backend.hall.catalogue import service_item_by_code

CLAIMABLE_CHANNELS = ("online", "self_service", "appointment")


FAR_FUTURE = date(9999, 12, 31)


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
        raise bad_cursor() from exc
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
    rows = conn.execute(case_select().where(*where).order_by(*order).limit(limit)).all()
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
        payload=case_event_payload(case),
    )
    return case
