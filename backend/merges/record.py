"""Provides the merge record as the API answers it (`GET /merges/{merge}`, a case's merge
history), and what blocks undoing a merge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from backend.cases.merge_links import merge_link_pair
from backend.db.paging import MAX_ID
from backend.db.schema import case_decisions, case_merges, cases
from backend.problems import NotFound


def merge_row(conn: Connection, merge_id: int) -> Any:
    row = None
    if merge_id <= MAX_ID:
        row = conn.execute(select(case_merges).where(case_merges.c.id == merge_id)).first()
    if row is None:
        raise NotFound(f"There is no merge {merge_id}.")
    return row


def merge_hall(conn: Connection, merge_id: int) -> int:
    return int(merge_row(conn, merge_id).hall_id)


def unmerge_blocker(conn: Connection, m: Any, now: datetime) -> str | None:
    """Why the merge cannot be undone now, or None."""
    if m.state != "active":
        return f"Merge {m.id} was already undone by {m.unmerged_by}."
    if now > m.unmerge_until:
        return (
            f"Merge {m.id} can only be undone until {m.unmerge_until:%Y-%m-%d %H:%M} UTC "
            "(the hall's unmerge period)."
        )
    survivor = conn.execute(select(cases).where(cases.c.id == m.survivor_id)).one()
    after = (m.plan or {}).get("decisions", {}).get("survivor", 0)
    later = conn.execute(
        select(case_decisions.c.decision, case_decisions.c.actor, case_decisions.c.details)
        .where(case_decisions.c.case_id == m.survivor_id, case_decisions.c.id > after)
        .order_by(case_decisions.c.id)
    ).all()
    merges = [d for d in later if d.decision == "merge"]
    if merges:
        other = (merges[-1].details or {}).get("merge")
        return (
            f"Case {survivor.number} took part in another merge since (merge {other}); undo "
            "that merge first."
        )
    if later:
        return (
            f"Case {survivor.number} has a decision since the merge ({later[0].decision} by "
            f"{later[0].actor}); a merge can only be undone before the survivor is decided on."
        )
    if survivor.version != m.survivor_version:
        return (
            f"Case {survivor.number} changed since the merge (version {survivor.version}, the "
            f"merge left {m.survivor_version}); undoing would lose that work."
        )
    return None


def merge_to_wire(conn: Connection, m: Any, now: datetime) -> dict[str, Any]:
    plan = m.plan or {}
    survivor, absorbed = merge_link_pair(conn, m)
    blocked = unmerge_blocker(conn, m, now)
    tickets_moved = plan.get("tickets") or []
    return {
        "id": m.id,
        "state": m.state,
        "survivor": survivor,
        "absorbed": absorbed,
        "merged_by": m.merged_by,
        "merged_at": m.merged_at,
        "unmerge_until": m.unmerge_until,
        "materials": plan.get("materials", []),
        "applicant": plan.get("applicant", {}),
        "applicant_mismatch_confirmed": bool(plan.get("applicant_mismatch_confirmed")),
        "time_limit_from": plan.get("time_limit_from"),
        "ticket": tickets_moved[0] if tickets_moved else None,
        "note": plan.get("note"),
        "unmerged_by": m.unmerged_by,
        "unmerged_at": m.unmerged_at,
        "can_unmerge": blocked is None,
        "unmerge_blocked": blocked,
    }


def load_merge(conn: Connection, merge_id: int, now: datetime) -> dict[str, Any]:
    return merge_to_wire(conn, merge_row(conn, merge_id), now)


def merges_of_case(conn: Connection, case_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(case_merges)
        .where((case_merges.c.survivor_id == case_id) | (case_merges.c.absorbed_id == case_id))
        .order_by(case_merges.c.id)
    ).all()
    return [merge_to_wire(conn, m, now) for m in rows]
