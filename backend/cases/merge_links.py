"""Provides what a case document says about its merges (`merged_into`, `merged_from`), and the
refusal to work on a merged case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from backend.db.schema import case_merges, cases
from backend.problems import CaseMerged


def case_link(conn: Connection, case_id: int) -> dict[str, Any]:
    number = conn.execute(select(cases.c.number).where(cases.c.id == case_id)).scalar()
    return {"id": case_id, "number": number}


def refuse_merged(conn: Connection, row: Any) -> None:
    """409 `case-merged` naming the survivor, when `row` is a merged case."""
    if row.status != "merged":
        return
    survivor = case_link(conn, row.merged_into_id) if row.merged_into_id else None
    name = survivor["number"] if survivor else "another case"
    raise CaseMerged(
        f"Case {row.number} was merged into case {name}; work on {name} instead.",
        survivor=survivor,
        current={"status": row.status, "version": row.version},
    )


def merge_link_pair(conn: Connection, m: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    numbers = dict(
        conn.execute(
            select(cases.c.id, cases.c.number).where(cases.c.id.in_([m.survivor_id, m.absorbed_id]))
        ).all()
    )
    survivor = {"merge": m.id, "case": m.survivor_id, "number": numbers[m.survivor_id]}
    absorbed = {"merge": m.id, "case": m.absorbed_id, "number": numbers[m.absorbed_id]}
    return {**survivor, "at": m.merged_at}, {**absorbed, "at": m.merged_at}


def merge_links(conn: Connection, case_id: int) -> dict[str, Any]:
    """The case document's `merged_into` and `merged_from` (active merges only)."""
    rows = conn.execute(
        select(case_merges)
        .where(
            case_merges.c.state == "active",
            (case_merges.c.survivor_id == case_id) | (case_merges.c.absorbed_id == case_id),
        )
        .order_by(case_merges.c.id)
    ).all()
    merged_into, merged_from = None, []
    for m in rows:
        survivor, absorbed = merge_link_pair(conn, m)
        if m.absorbed_id == case_id:
            merged_into = survivor
        else:
            merged_from.append(absorbed)
    return {"merged_into": merged_into, "merged_from": merged_from}
