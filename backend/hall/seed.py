"""Provides loading a hall file into the database, idempotently (re-loading updates in place)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from backend.db.engine import inserted_id
from backend.db.event_log import SYSTEM, append_event, ensure_chain_head
from backend.db.schema import (
    applicants,
    departments,
    e_licences,
    halls,
    materials,
    priority_classes,
    service_items,
    tickets,
    users,
    window_items,
    windows,
)
from backend.hall.hall_file import HallFile, parse_hall_data
from backend.runtime.passwords import Passwords

DEMO_PASSWORD = "demo1234"


@dataclass(frozen=True)
class SeedReport:
    hall: str
    service_items: int
    windows: int
    users: list[tuple[str, str, str | None]]
    # the password each account got in this load (new accounts, or all with --password);
    # accounts missing here kept theirs
    passwords_set: dict[str, str] = field(default_factory=dict)


def _upsert(
    conn: Connection, table: Table, keys: Mapping[str, Any], values: Mapping[str, Any]
) -> int:
    """Insert or update the row identified by `keys`; return its id."""
    where = [table.c[name] == value for name, value in keys.items()]
    existing = conn.execute(select(table.c.id).where(*where)).scalar()
    if existing is None:
        return inserted_id(conn.execute(insert(table).values(**keys, **values)))
    conn.execute(update(table).where(table.c.id == existing).values(**values))
    return int(existing)


def load_hall(
    conn: Connection,
    hall_file: HallFile,
    passwords: Passwords,
    password: str | None,
    *,
    new_account_password: Callable[[], str] | None = None,
) -> SeedReport:
    """Create or update everything the hall file defines. Passwords are set only for new users
    (`new_account_password()` each, the demo password without it), or for every user when
    `password` is given."""
    ensure_chain_head(conn)
    spec = hall_file.hall
    rules = spec.model_dump(exclude={"code", "name", "name_en", "address", "address_en", "phone"})
    rules["reject_reasons"] = [r.model_dump() for r in hall_file.reject_reasons]
    hall_id = _upsert(
        conn,
        halls,
        {"code": spec.code},
        {
            "name": spec.name,
            "name_en": spec.name_en,
            "address": spec.address,
            "address_en": spec.address_en,
            "phone": spec.phone,
            "rules": rules,
        },
    )
    for pc in hall_file.priority_classes:
        _upsert(
            conn,
            priority_classes,
            {"hall_id": hall_id, "code": pc.code},
            {"name": pc.name, "name_en": pc.name_en, "weight": pc.weight},
        )
    dept_ids = {
        d.code: _upsert(
            conn,
            departments,
            {"hall_id": hall_id, "code": d.code},
            {"name": d.name, "name_en": d.name_en},
        )
        for d in hall_file.departments
    }
    item_ids = {}
    for item in hall_file.service_items:
        details = item.model_dump(
            mode="json",
            include={
                "fee_yuan",
                "fee_note",
                "fee_note_en",
                "online",
                "related",
                "guideline",
                "guideline_en",
                "wait_warning_minutes",
                "wait_critical_minutes",
            },
        )
        item_id = _upsert(
            conn,
            service_items,
            {"hall_id": hall_id, "code": item.code},
            {
                "department_id": dept_ids[item.department],
                "name": item.name,
                "name_en": item.name_en,
                "ticket_prefix": item.ticket_prefix,
                "promised_days": item.promised_days,
                "statutory_days": item.statutory_days,
                "details": details,
            },
        )
        item_ids[item.code] = item_id
        _load_materials(conn, item_id, item)
    window_ids = {}
    for window in hall_file.windows:
        window_id = _upsert(
            conn,
            windows,
            {"hall_id": hall_id, "code": window.code},
            {
                "number": window.number,
                "name": window.name,
                "name_en": window.name_en,
                "comprehensive": window.comprehensive,
            },
        )
        window_ids[window.code] = window_id
        conn.execute(delete(window_items).where(window_items.c.window_id == window_id))
        conn.execute(
            insert(window_items),
            [
                {"window_id": window_id, "service_item_id": item_ids[c]}
                for c in window.service_items
            ],
        )
    initial = new_account_password or default_password
    accounts, passwords_set = _load_users(
        conn, hall_id, hall_file, window_ids, passwords, password or initial
    )
    _load_applicants(conn, hall_file)
    append_event(
        conn,
        hall_id=hall_id,
        type="hall.loaded",
        subject_type="hall",
        subject_id=spec.code,
        actor=SYSTEM,
        at=_now(),
        payload={"service_items": len(item_ids), "windows": len(window_ids)},
    )
    return SeedReport(spec.code, len(item_ids), len(window_ids), accounts, passwords_set)


def _now() -> datetime:
    return datetime.now(UTC)


def _load_materials(conn: Connection, item_id: int, item: Any) -> None:
    for position, material in enumerate(item.materials):
        _upsert(
            conn,
            materials,
            {"service_item_id": item_id, "code": material.code},
            {
                "position": position,
                "name": material.name,
                "name_en": material.name_en,
                "mandatory": material.mandatory,
                "may_be_owed": material.may_be_owed,
                "e_licence_type": material.e_licence_type,
                "copies": material.copies,
                "format": material.format,
                "needs_expiry_check": material.needs_expiry_check,
                "kind": material.kind,
            },
        )


def _load_users(
    conn: Connection,
    hall_id: int,
    hall_file: HallFile,
    window_ids: dict[str, int],
    passwords: Passwords,
    password: str | Callable[[], str],
) -> tuple[list[tuple[str, str, str | None]], dict[str, str]]:
    """`password`: everyone's new password, or what gives each new account its first one."""
    accounts: list[tuple[str, str, str | None]] = []
    passwords_set: dict[str, str] = {}
    for user in hall_file.users:
        existing = conn.execute(
            select(users.c.id, users.c.password_hash).where(users.c.username == user.username)
        ).first()
        values: dict[str, Any] = {
            "hall_id": hall_id,
            "display_name": user.display_name,
            "role": user.role,
            "default_window_id": window_ids.get(user.window) if user.window else None,
        }
        if existing is None or isinstance(password, str):
            plain = password if isinstance(password, str) else password()
            passwords_set[user.username] = plain
            values["password_hash"] = passwords.hash(plain)
            values["failed_logins"] = 0
            values["locked_until"] = None
        if existing is None:
            conn.execute(insert(users).values(username=user.username, **values))
        else:
            conn.execute(update(users).where(users.c.id == existing.id).values(**values))
        accounts.append((user.username, user.role, user.window))
    return accounts, passwords_set


def default_password() -> str:
    """The demo hall's password of a new account when no --password is given."""
    return DEMO_PASSWORD


def generated_password() -> str:
    """A new account's first password when a real hall file is loaded without --password:
    random, shown once by `workbench seed` (never the demo's public one)."""
    return secrets.token_urlsafe(12)


def _load_applicants(conn: Connection, hall_file: HallFile) -> None:
    for applicant in hall_file.applicants:
        _upsert(
            conn,
            applicants,
            {"id_number": applicant.id_number},
            {
                "kind": applicant.kind,
                "name": applicant.name,
                "phone": applicant.phone,
                "birth_date": applicant.birth_date,
                "sex": applicant.sex,
                "details": {"legal_representative": applicant.legal_representative},
            },
        )
    for licence in hall_file.e_licences:
        _upsert(
            conn,
            e_licences,
            {"type": licence.type, "number": licence.number, "holder_id": licence.holder_id},
            {
                "type_name": licence.type_name,
                "type_name_en": licence.type_name_en,
                "holder_name": licence.holder_name,
                "issuer": licence.issuer,
                "valid_from": licence.valid_from,
                "valid_to": licence.valid_to,
                "status": licence.status,
            },
        )


def hall_with_extra_clerks(hall: HallFile, count: int, service_item: str) -> HallFile:
    """`hall` plus windows X01..Xnn, each with a clerk xclerkNN, all serving one service item
    (for load tests and benchmarks)."""
    data: dict[str, Any] = hall.model_dump(mode="python")
    for n in range(1, count + 1):
        code = f"X{n:02d}"
        data["windows"].append(
            {
                "code": code,
                "number": 1000 + n,
                "name": f"临时{n}号窗口",
                "name_en": f"Extra window {n}",
                "service_items": [service_item],
            }
        )
        data["users"].append(
            {
                "username": f"xclerk{n:02d}",
                "display_name": f"临时窗口人员{n}",
                "role": "clerk",
                "window": code,
            }
        )
    return parse_hall_data(data, f"{hall.hall.code} with {count} extra clerks")


def add_waiting_tickets(
    conn: Connection, hall_code: str, service_item: str, count: int, now: datetime
) -> None:
    """Put `count` tickets straight into a queue (for load tests: no events, no numbering rules;
    numbers Z00000…, after those a previous call added)."""
    from backend.hall.working_calendar import local_day

    hall = conn.execute(select(halls).where(halls.c.code == hall_code)).one()
    item_id = conn.execute(
        select(service_items.c.id).where(
            service_items.c.hall_id == hall.id, service_items.c.code == service_item
        )
    ).scalar_one()
    day = local_day(now, hall.timezone)
    added_before = conn.execute(
        select(func.count())
        .select_from(tickets)
        .where(tickets.c.hall_id == hall.id, tickets.c.day == day, tickets.c.number.like("Z%"))
    ).scalar_one()
    rows = [
        {
            "hall_id": hall.id,
            "day": day,
            "number": f"Z{n:05d}",
            "service_item_id": item_id,
            "priority_weight": 0,
            "status": "waiting",
            "walk_in": False,
            "issued_at": now + timedelta(microseconds=n),
            "queued_at": now + timedelta(microseconds=n),
        }
        for n in range(added_before, added_before + count)
    ]
    conn.execute(insert(tickets), rows)
