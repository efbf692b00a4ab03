"""Provides catalogue look-ups shared by the routes: halls, windows, service items by code."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, bindparam, select

from backend.db.prepared import Prepared
from backend.db.schema import (
    departments,
    halls,
    materials,
    priority_classes,
    service_items,
    users,
    window_items,
    windows,
)
from backend.problems import InvalidInput, NotFound

_HALL_BY_ID = select(halls).where(halls.c.id == bindparam("hall_id"))
_WINDOW_BY_CODE = Prepared(
    select(windows).where(
        windows.c.hall_id == bindparam("hall_id"), windows.c.code == bindparam("code")
    )
)
_ITEM_BY_CODE = Prepared(
    select(service_items).where(
        service_items.c.hall_id == bindparam("hall_id"), service_items.c.code == bindparam("code")
    )
)
_WINDOW_SERVES = select(window_items.c.window_id).where(
    window_items.c.window_id == bindparam("window_id"),
    window_items.c.service_item_id == bindparam("item_id"),
)


def hall_row(conn: Connection, hall_id: int) -> Any:
    return conn.execute(_HALL_BY_ID, {"hall_id": hall_id}).one()


# Hall rules change only when a hall file is re-loaded; every call next reads them.
_RULES_TTL_SECONDS = 5.0
_rules_cache: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}


def hall_rules(conn: Connection, hall_id: int) -> dict[str, Any]:
    """The hall's queue rules (cached for a few seconds per database)."""
    cache_key = (conn.engine.url.render_as_string(hide_password=True), hall_id)
    cached = _rules_cache.get(cache_key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = hall_row(conn, hall_id)
    rules: dict[str, Any] = dict(row.rules or {})
    rules.setdefault("timezone", row.timezone)
    _rules_cache[cache_key] = (time.monotonic() + _RULES_TTL_SECONDS, rules)
    return rules


def hall_timezone(conn: Connection, hall_id: int) -> str:
    """The IANA name of the hall's time zone: every day and time a clerk or citizen reads (a
    ticket's day, a case number, a notice's date, the board) is the hall's."""
    return str(hall_rules(conn, hall_id)["timezone"])


def window_by_code(conn: Connection, hall_id: int, code: str) -> Any:
    row = _WINDOW_BY_CODE.first(conn, {"hall_id": hall_id, "code": code})
    if row is None:
        raise NotFound(f"There is no window {code!r} in this hall.")
    return row


def service_item_by_code(conn: Connection, hall_id: int, code: str, *, field: str) -> Any:
    row = _ITEM_BY_CODE.first(conn, {"hall_id": hall_id, "code": code})
    if row is None:
        raise InvalidInput(
            f"{field}: there is no service item {code!r} in this hall.",
            errors=[{"loc": ["body", field], "msg": "unknown service item", "type": "unknown"}],
        )
    return row


def priority_class_by_code(conn: Connection, hall_id: int, code: str) -> Any:
    row = conn.execute(
        select(priority_classes).where(
            priority_classes.c.hall_id == hall_id, priority_classes.c.code == code
        )
    ).first()
    if row is None:
        raise InvalidInput(
            f"priority_class: there is no priority class {code!r} in this hall.",
            errors=[
                {
                    "loc": ["body", "priority_class"],
                    "msg": "unknown priority class",
                    "type": "unknown",
                }
            ],
        )
    return row


def window_serves(conn: Connection, window_id: int, service_item_id: int) -> bool:
    params = {"window_id": window_id, "item_id": service_item_id}
    return conn.execute(_WINDOW_SERVES, params).first() is not None


def list_service_items(conn: Connection, hall_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            service_items,
            departments.c.code.label("dept_code"),
            departments.c.name.label("dept_name"),
            departments.c.name_en.label("dept_name_en"),
        )
        .join(departments, departments.c.id == service_items.c.department_id)
        .where(service_items.c.hall_id == hall_id)
        .order_by(service_items.c.code)
    ).all()
    mats: dict[int, list[dict[str, Any]]] = {}
    for m in conn.execute(
        select(materials)
        .join(service_items, service_items.c.id == materials.c.service_item_id)
        .where(service_items.c.hall_id == hall_id)
        .order_by(materials.c.service_item_id, materials.c.position)
    ):
        mats.setdefault(m.service_item_id, []).append(
            {
                "code": m.code,
                "name": m.name,
                "name_en": m.name_en,
                "mandatory": m.mandatory,
                "may_be_owed": m.may_be_owed,
                "e_licence_type": m.e_licence_type,
                "copies": m.copies,
                "format": m.format,
                "needs_expiry_check": m.needs_expiry_check,
                "kind": m.kind,
            }
        )
    items = []
    for r in rows:
        details = dict(r.details or {})
        items.append(
            {
                "code": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "department": r.dept_code,
                "department_name": r.dept_name,
                "department_name_en": r.dept_name_en,
                "ticket_prefix": r.ticket_prefix,
                "promised_days": r.promised_days,
                "statutory_days": r.statutory_days,
                "fee_yuan": float(details.get("fee_yuan") or 0),
                "guideline": details.get("guideline") or "",
                "guideline_en": details.get("guideline_en") or "",
                "online": bool(details.get("online", True)),
                "related": list(details.get("related") or []),
                "materials": mats.get(r.id, []),
            }
        )
    return items


def list_windows(conn: Connection, hall_id: int) -> dict[str, Any]:
    item_codes: dict[int, list[str]] = {}
    for row in conn.execute(
        select(window_items.c.window_id, service_items.c.code)
        .join(service_items, service_items.c.id == window_items.c.service_item_id)
        .where(service_items.c.hall_id == hall_id)
        .order_by(service_items.c.code)
    ):
        item_codes.setdefault(row.window_id, []).append(row.code)
    rows = conn.execute(
        select(windows, users.c.username)
        .outerjoin(users, users.c.id == windows.c.clerk_id)
        .where(windows.c.hall_id == hall_id)
        .order_by(windows.c.number)
    ).all()
    classes = conn.execute(
        select(priority_classes)
        .where(priority_classes.c.hall_id == hall_id)
        .order_by(priority_classes.c.weight.desc())
    ).all()
    return {
        "items": [
            {
                "code": w.code,
                "number": w.number,
                "name": w.name,
                "name_en": w.name_en,
                "comprehensive": w.comprehensive,
                "service_items": item_codes.get(w.id, []),
                "state": w.state,
                "pause_reason": w.pause_reason,
                "clerk": w.username,
                "version": w.version,
            }
            for w in rows
        ],
        "priority_classes": [
            {"code": c.code, "name": c.name, "name_en": c.name_en, "weight": c.weight}
            for c in classes
        ],
    }


def item_materials(conn: Connection, item_id: int) -> dict[str, Any]:
    """A service item's materials by code, in checklist order."""
    rows = conn.execute(
        select(materials)
        .where(materials.c.service_item_id == item_id)
        .order_by(materials.c.position)
    )
    return {r.code: r for r in rows}
