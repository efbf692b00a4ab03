"""Provides merging two cases of the same matter (a hall visitor's case and the same person's
online application), undoing a merge, and opening a hall case for the visitor being served.

A merge runs in the caller's single transaction, with both case rows locked (FOR UPDATE on
PostgreSQL, in id order; SQLite's BEGIN IMMEDIATE serialises writers), so of two clerks merging
the same pair one wins and the other gets 409. The rules:

- Refused: a case into itself (422); a case that is merged (409 `case-merged`, naming its
  survivor) or closed (approved, rejected, withdrawn); cases of different halls; two cases that
  both have an acceptance (受理) decision; different applicant ID numbers unless the clerk sends
  `confirm_applicant_mismatch` (409 `applicant-mismatch`); differing applicant fields without a
  resolution for each (422).
- If-Match names the survivor's version (428 without, 412 stale); `other_version`, when sent,
  the absorbed case's.
- Materials: the union. For a material both cases have, the clerk's choice, else the default:
  the verified side (checklist status `provided`), then the newer one (its verification time,
  else the case's submission time), then the survivor. A material taken from the absorbed case is
  copied with its items (each keeping its origin: online upload, hall paper, e-licence, and
  `merged_from` naming the case) and its verification; the absorbed case keeps its own rows.
- The survivor's promised time limit is the earlier one: when only the absorbed case was
  accepted, the survivor takes over its acceptance (status, acceptance day, deadline, clock and
  pauses); both accepted is refused.
- A ticket attached to the absorbed case follows the survivor.
- The absorbed case becomes `merged`, points at the survivor (`merged_into_id`) and its clock
  stops; both cases get a `merge` decision record and an event.

Before changing anything the merge stores a snapshot of every row it touches (both case rows,
the survivor's materials and checklist rows, the moved tickets' case link, applicant fields it
corrects). Unmerging (a supervisor, within the hall's `unmerge_period_days` of the merge, and
only while the survivor has not changed since: no decision, no verification, not merged on)
restores the snapshot, so both cases return to exactly their state before; only their versions
move on (a version never names two different states). Chained merges are undone last first. The
merge record (`GET /merges/{merge}`, `GET /cases/{case}/merges`) and the events keep the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from api_client.models.merges import ApplicantResolution, MergeRequest
from backend.auth.sessions import Principal
from backend.cases.intake import case_event
from backend.cases.records import load_case
from backend.cases.time_limits import hall_day_of
from backend.db.engine import inserted_id
from backend.db.schema import (
    applicants,
    case_checklist,
    case_decisions,
    case_materials,
    case_merges,
    cases,
    tickets,
)
from backend.hall.catalogue import hall_rules
from backend.merges.plan import (
    APPLICANT_FIELDS,
    MaterialRow,
    Plan,
    other_case_row,
    plan_merge,
    refuse_self_merge,
)
from backend.merges.record import load_merge
from backend.merges.snapshot import dump_row, take_snapshot
from backend.problems import (
    ApplicantMismatch,
    InvalidInput,
    PreconditionFailed,
    PreconditionRequired,
)


def lock_cases(conn: Connection, ids: list[int]) -> None:
    """Lock both case rows (in id order, so two merges of one pair cannot deadlock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            select(cases.c.id)
            .where(cases.c.id.in_(sorted(ids)))
            .order_by(cases.c.id)
            .with_for_update()
        ).all()


def _check_versions(
    conn: Connection, plan: Plan, if_match: int | None, other_version: int | None, now: datetime
) -> None:
    survivor, absorbed = plan.survivor, plan.absorbed
    if if_match is None:
        raise PreconditionRequired(
            f"Send If-Match with the version of the surviving case {survivor.number} "
            f'(e.g. "{survivor.version}").'
        )
    for row, sent in ((survivor, if_match), (absorbed, other_version)):
        if sent is not None and sent != row.version:
            raise PreconditionFailed(
                f"Case {row.number} changed (version {row.version}, you sent {sent}); "
                "look at both cases again before merging.",
                current=load_case(conn, row.id, now=now),
            )


def _check_applicant(plan: Plan, body: MergeRequest) -> None:
    if plan.mismatch and not body.confirm_applicant_mismatch:
        raise ApplicantMismatch(
            f"Cases {plan.survivor.number} and {plan.absorbed.number} have applicants with "
            "different ID numbers; compare them and confirm (confirm_applicant_mismatch) if "
            "they are the same person.",
            differences=plan.differences,
        )
    missing = [d["field"] for d in plan.differences if getattr(body.applicant, d["field"]) is None]
    if missing:
        raise InvalidInput(
            f"applicant: {', '.join(missing)} differ between the two cases; say for each which "
            "side is right (survivor or absorbed).",
            errors=[
                {
                    "loc": ["body", "applicant", name],
                    "msg": "differs: resolve it",
                    "type": "missing",
                }
                for name in missing
            ],
            differences=plan.differences,
        )


def _choices(plan: Plan, body: MergeRequest) -> dict[str, str]:
    rows = {r.code: r for r in plan.materials}
    chosen: dict[str, str] = {}
    for index, choice in enumerate(body.materials):
        loc: list[str | int] = ["body", "materials", index, "material"]
        row = rows.get(choice.material)
        problem = None
        if choice.material in chosen:
            problem = f"{choice.material} is listed twice"
        elif row is None:
            problem = f"neither case has {choice.material!r}"
        elif getattr(row, choice.keep) is None:
            problem = f"the {choice.keep} case has no {choice.material}"
        if problem:
            raise InvalidInput(
                f"materials[{index}]: {problem}.",
                errors=[{"loc": loc, "msg": problem, "type": "value_error"}],
            )
        chosen[choice.material] = choice.keep
    return {r.code: chosen.get(r.code, r.default) for r in plan.materials}


def _take_material(conn: Connection, plan: Plan, row: MaterialRow) -> None:
    """Replace the survivor's holding of one material by a copy of the absorbed case's."""
    survivor, absorbed = plan.survivor, plan.absorbed
    theirs = row.absorbed
    assert theirs is not None
    conn.execute(
        delete(case_materials).where(
            case_materials.c.case_id == survivor.id, case_materials.c.material_code == row.code
        )
    )
    for item in theirs["uploads"]:
        values = dump_row(case_materials, item, raw=True)
        values.pop("id")
        values.update(case_id=survivor.id, merged_from=item.merged_from or absorbed.number)
        conn.execute(insert(case_materials).values(**values))
    if not row.on_checklist:
        return
    mine = row.survivor["check"] if row.survivor is not None else None
    conn.execute(
        delete(case_checklist).where(
            case_checklist.c.case_id == survivor.id, case_checklist.c.material_code == row.code
        )
    )
    check = theirs["check"]
    if check is None:
        return
    values = dump_row(case_checklist, check, raw=True)
    values.pop("id")
    values["case_id"] = survivor.id
    # the one-time notice rule compares revisions: a replaced row must count as changed
    values["revision"] = max(check.revision, mine.revision if mine is not None else 0) + 1
    conn.execute(insert(case_checklist).values(**values))


def _apply_applicant(
    conn: Connection, plan: Plan, resolution: ApplicantResolution, snapshot: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Case column values and declared facts for the survivor; records applicant corrections."""
    values: dict[str, Any] = {}
    declared = dict((plan.survivor.details or {}).get("declared") or {})
    applied: dict[str, str] = {}
    differing = {d["field"] for d in plan.differences}
    sides = {"survivor": plan.survivor_values, "absorbed": plan.absorbed_values}
    applicant_id = plan.survivor.applicant_id
    if "id_number" in differing and resolution.id_number == "absorbed":
        applicant_id = plan.absorbed.applicant_id
        values["applicant_id"] = applicant_id
    for name in APPLICANT_FIELDS:
        if name not in differing:
            continue
        side = getattr(resolution, name)
        applied[name] = side
        chosen = sides[side][name]
        if name in ("birth_date", "sex"):
            declared[name] = chosen
        elif name in ("name", "phone"):
            current = conn.execute(
                select(applicants.c[name]).where(applicants.c.id == applicant_id)
            ).scalar()
            if current != chosen:
                conn.execute(
                    update(applicants).where(applicants.c.id == applicant_id).values({name: chosen})
                )
                snapshot["applicants"].append(
                    {"id": applicant_id, "field": name, "old": current, "new": chosen}
                )
    return values, declared, applied


def merge_cases(
    conn: Connection,
    *,
    principal: Principal,
    case_id: int,
    body: MergeRequest,
    if_match: int | None,
    now: datetime,
) -> dict[str, Any]:
    refuse_self_merge(body.other_case, case_id)
    other_case_row(conn, body.other_case, ["body", "other_case"])
    lock_cases(conn, [case_id, body.other_case])
    plan = plan_merge(conn, case_id, body.other_case, body.survivor)
    principal.require_hall(plan.absorbed.hall_id)
    _check_versions(conn, plan, if_match, body.other_version, now)
    _check_applicant(plan, body)
    choices = _choices(plan, body)
    survivor, absorbed = plan.survivor, plan.absorbed
    snapshot = take_snapshot(conn, plan)
    rules = hall_rules(conn, survivor.hall_id)
    until = now + timedelta(days=int(rules.get("unmerge_period_days", 7)))
    merge_id = inserted_id(
        conn.execute(
            insert(case_merges).values(
                hall_id=survivor.hall_id,
                survivor_id=survivor.id,
                absorbed_id=absorbed.id,
                state="active",
                merged_by=principal.username,
                merged_at=now,
                unmerge_until=until,
                survivor_version=0,
                plan={},
                snapshot={},
            )
        )
    )
    outcomes = []
    for row in plan.materials:
        keep = choices[row.code]
        if keep == "absorbed" and row.absorbed is not None:
            _take_material(conn, plan, row)
        holding = row.absorbed if keep == "absorbed" else row.survivor
        origins = sorted({m.origin for m in (holding or {}).get("uploads", [])})
        outcomes.append({"material": row.code, "kept": keep, "origins": origins})
    values, declared, applied = _apply_applicant(conn, plan, body.applicant, snapshot)
    details = dict(survivor.details or {})
    details["declared"] = declared
    to_status = survivor.status
    if plan.time_limit_from == "absorbed":
        theirs = absorbed.details or {}
        to_status = absorbed.status
        details["pauses"] = list(theirs.get("pauses", []))
        details.pop("resume_to", None)
        if theirs.get("resume_to"):
            details["resume_to"] = theirs["resume_to"]
        values.update(
            accepted_on=absorbed.accepted_on,
            deadline_on=absorbed.deadline_on,
            clock_state=absorbed.clock_state,
            completed_on=None,
        )
    if plan.tickets:
        conn.execute(
            update(tickets).where(tickets.c.id.in_(plan.tickets)).values(case_id=survivor.id)
        )
    survivor_version = survivor.version + 1
    conn.execute(
        update(cases)
        .where(cases.c.id == survivor.id)
        .values(
            status=to_status,
            details=details,
            ticket_id=survivor.ticket_id or absorbed.ticket_id,
            version=survivor_version,
            **values,
        )
    )
    absorbed_values: dict[str, Any] = {
        "status": "merged",
        "merged_into_id": survivor.id,
        "version": absorbed.version + 1,
    }
    if absorbed.clock_state in ("running", "paused"):
        today = hall_day_of(conn, absorbed.hall_id, now).today
        absorbed_values.update(clock_state="stopped", completed_on=today)
    conn.execute(update(cases).where(cases.c.id == absorbed.id).values(**absorbed_values))
    note = body.note
    decision_ids = {
        "survivor": _decision(
            conn, survivor, to_status, principal, now, note, {"absorbed": absorbed.number}, merge_id
        ),
        "absorbed": _decision(
            conn, absorbed, "merged", principal, now, note, {"survivor": survivor.number}, merge_id
        ),
    }
    stored_plan = {
        "materials": outcomes,
        "applicant": applied,
        "applicant_mismatch_confirmed": plan.mismatch,
        "time_limit_from": plan.time_limit_from,
        "tickets": plan.tickets,
        "decisions": decision_ids,
        "note": note,
    }
    conn.execute(
        update(case_merges)
        .where(case_merges.c.id == merge_id)
        .values(survivor_version=survivor_version, plan=stored_plan, snapshot=snapshot)
    )
    common = {"merge": merge_id, "note": note}
    case_event(
        conn,
        survivor,
        "case.merge_received",
        principal,
        now,
        {
            **common,
            "status": to_status,
            "version": survivor_version,
            "absorbed": absorbed.number,
            "materials_taken": [o["material"] for o in outcomes if o["kept"] == "absorbed"],
            "applicant_fields": sorted(applied),
            "time_limit_from": plan.time_limit_from,
            "tickets": plan.tickets,
        },
    )
    case_event(
        conn,
        absorbed,
        "case.merged",
        principal,
        now,
        {
            **common,
            "status": "merged",
            "version": absorbed.version + 1,
            "survivor": survivor.number,
        },
    )
    return {
        "merge": load_merge(conn, merge_id, now),
        "survivor": load_case(conn, survivor.id, now=now),
        "absorbed": load_case(conn, absorbed.id, now=now),
    }


def _decision(
    conn: Connection,
    row: Any,
    to_status: str,
    principal: Principal,
    now: datetime,
    note: str | None,
    details: dict[str, Any],
    merge_id: int,
) -> int:
    return inserted_id(
        conn.execute(
            insert(case_decisions).values(
                case_id=row.id,
                decision="merge",
                from_status=row.status,
                to_status=to_status,
                actor_id=principal.user_id,
                actor=principal.username,
                at=now,
                note=note,
                details={**details, "merge": merge_id},
            )
        )
    )
