"""Provides the snapshot a merge stores before changing anything: the rows it touches, as JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, Table, select

from backend.db.schema import UtcDateTime, case_checklist, case_materials, cases, tickets
from backend.merges.plan import Plan


def dump_row(table: Table, row: Any, *, raw: bool = False) -> dict[str, Any]:
    """Every column of `row`; dates and datetimes as ISO text unless `raw`."""
    data = {column.name: getattr(row, column.name) for column in table.columns}
    if not raw:
        for name, value in data.items():
            if isinstance(value, date | datetime):
                data[name] = value.isoformat()
    return data


def load_row(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    """The column values `dump_row` stored, typed again."""
    values: dict[str, Any] = {}
    for column in table.columns:
        value = data.get(column.name)
        if isinstance(value, str) and isinstance(column.type, UtcDateTime):
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        values[column.name] = value
    return values


def _raw(conn: Connection, table: Table, *where: Any) -> list[Any]:
    return list(conn.execute(select(table).where(*where).order_by(table.c.id)).all())


def take_snapshot(conn: Connection, plan: Plan) -> dict[str, Any]:
    s, a = plan.survivor.id, plan.absorbed.id
    return {
        "cases": [dump_row(cases, r) for r in _raw(conn, cases, cases.c.id.in_([s, a]))],
        "case_materials": [
            dump_row(case_materials, r)
            for r in _raw(conn, case_materials, case_materials.c.case_id == s)
        ],
        "case_checklist": [
            dump_row(case_checklist, r)
            for r in _raw(conn, case_checklist, case_checklist.c.case_id == s)
        ],
        "tickets": [
            {"id": t.id, "case_id": t.case_id}
            for t in _raw(conn, tickets, tickets.c.id.in_(plan.tickets))
        ],
        "applicants": [],
    }
