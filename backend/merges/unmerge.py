"""Provides undoing a merge: both cases return to their state before it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from backend.auth.sessions import Principal
from backend.cases.intake import case_event
from backend.cases.records import case_row, load_case
from backend.db.schema import (
    applicants,
    case_checklist,
    case_decisions,
    case_materials,
    case_merges,
    cases,
    tickets,
)
from backend.merges.merge import lock_cases
from backend.merges.record import load_merge, merge_row, unmerge_blocker
from backend.merges.snapshot import load_row
from backend.problems import UnmergeRefused


def unmerge(
    conn: Connection, *, principal: Principal, merge_id: int, note: str | None, now: datetime
) -> dict[str, Any]:
    m = merge_row(conn, merge_id)
    principal.require_hall(m.hall_id)
    lock_cases(conn, [m.survivor_id, m.absorbed_id])
    if conn.dialect.name == "postgresql":
        m = conn.execute(
            select(case_merges).where(case_merges.c.id == merge_id).with_for_update()
        ).one()
    blocked = unmerge_blocker(conn, m, now)
    if blocked:
        raise UnmergeRefused(blocked, merge=merge_id)
    snapshot = m.snapshot
    current = dict(
        conn.execute(
            select(cases.c.id, cases.c.version).where(
                cases.c.id.in_([m.survivor_id, m.absorbed_id])
            )
        ).all()
    )
    versions = {}
    for data in snapshot["cases"]:
        values = load_row(cases, data)
        case_id = values.pop("id")
        values["version"] = versions[case_id] = current[case_id] + 1
        conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
        # an earlier merge into this case that it left unchanged sees it unchanged again
        conn.execute(
            update(case_merges)
            .where(
                case_merges.c.survivor_id == case_id,
                case_merges.c.state == "active",
                case_merges.c.id != merge_id,
                case_merges.c.survivor_version == data["version"],
            )
            .values(survivor_version=values["version"])
        )
    for table in (case_materials, case_checklist):
        conn.execute(delete(table).where(table.c.case_id == m.survivor_id))
        rows = [load_row(table, data) for data in snapshot[table.name]]
        if rows:
            conn.execute(insert(table), rows)
    decision_ids = list((m.plan or {}).get("decisions", {}).values())
    conn.execute(delete(case_decisions).where(case_decisions.c.id.in_(decision_ids)))
    for ticket in snapshot["tickets"]:
        conn.execute(
            update(tickets)
            .where(tickets.c.id == ticket["id"], tickets.c.case_id == m.survivor_id)
            .values(case_id=ticket["case_id"])
        )
    for change in snapshot["applicants"]:
        column = applicants.c[change["field"]]
        conn.execute(
            update(applicants)
            .where(applicants.c.id == change["id"], column == change["new"])
            .values({change["field"]: change["old"]})
        )
    conn.execute(
        update(case_merges)
        .where(case_merges.c.id == merge_id)
        .values(state="undone", unmerged_by=principal.username, unmerged_at=now)
    )
    survivor, absorbed = case_row(conn, m.survivor_id), case_row(conn, m.absorbed_id)
    for row, other in ((survivor, absorbed), (absorbed, survivor)):
        case_event(
            conn,
            row,
            "case.unmerged",
            principal,
            now,
            {
                "merge": merge_id,
                "status": row.status,
                "version": row.version,
                "other": other.number,
                "note": note,
            },
        )
    return {
        "merge": load_merge(conn, merge_id, now),
        "survivor": load_case(conn, survivor.id, now=now),
        "absorbed": load_case(conn, absorbed.id, now=now),
    }
