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

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Date, Table, delete, insert, select, update

from api_client.identity import mask_phone, mask_resident_id
from api_client.models import CaseIntake, IntakeApplicant
from api_client.models.merges import ApplicantResolution, HallCaseOpen, MergeRequest
from backend.auth.sessions import Principal
from backend.cases.records import case_row, hall_day_of, inserted_id, intake_case, load_case
from backend.cases.verification import document_to_wire
from backend.db.event_log import append_event
from backend.db.schema import (
    UtcDateTime,
    applicants,
    case_checklist,
    case_decisions,
    case_materials,
    case_merges,
    cases,
    materials,
    service_items,
    tickets,
)
from backend.hall.catalogue import hall_rules
from backend.merges.candidates import Probe, case_summary, find_candidates, probe_for_case
from backend.problems import (
    ApplicantMismatch,
    CaseMerged,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    MergeRefused,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    UnmergeRefused,
)

CLOSED = ("approved", "rejected", "withdrawn")
MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns: a larger one names no row (and must not be bound)
APPLICANT_FIELDS = ("id_number", "name", "phone", "birth_date", "sex")
SERVING = ("called", "serving", "parked")


# --- rows as JSON (the snapshot) -----------------------------------------------------------------


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


# --- candidates ---------------------------------------------------------------------------------


def candidates_for_case(conn: Connection, case_id: int) -> dict[str, Any]:
    row = case_row(conn, case_id)
    return {
        "case": case_id,
        "ticket": None,
        "items": find_candidates(conn, probe_for_case(conn, row)),
    }


def candidates_for_ticket(conn: Connection, principal: Principal, ticket_id: int) -> dict[str, Any]:
    """Candidates for the visitor holding a ticket: its case's, else its applicant's."""
    ticket = _ticket(conn, ticket_id)
    principal.require_hall(ticket.hall_id)
    if ticket.case_id is not None:
        probe = probe_for_case(conn, case_row(conn, ticket.case_id))
    elif ticket.applicant_id is not None:
        person = conn.execute(
            select(applicants).where(applicants.c.id == ticket.applicant_id)
        ).one()
        probe = Probe(
            hall_id=ticket.hall_id,
            applicant_id=person.id,
            kind=person.kind,
            id_number=person.id_number,
            name=person.name,
            phone=person.phone,
            birth_date=person.birth_date,
            item_id=ticket.service_item_id,
            credit_codes={person.id_number} if person.kind == "organisation" else set(),
        )
    else:
        return {"case": None, "ticket": ticket_id, "items": []}
    return {"case": ticket.case_id, "ticket": ticket_id, "items": find_candidates(conn, probe)}


def _ticket(conn: Connection, ticket_id: int) -> Any:
    row = None
    if ticket_id <= MAX_ROW_ID:
        row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
    if row is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    return row


# --- the plan: what a merge of two cases would do -----------------------------------------------


@dataclass
class MaterialRow:
    """One material code, both sides' holdings and the default choice."""

    code: str
    name: str | None
    name_en: str | None
    on_checklist: bool
    survivor: dict[str, Any] | None
    absorbed: dict[str, Any] | None
    default: str


@dataclass
class Plan:
    survivor: Any
    absorbed: Any
    differences: list[dict[str, Any]]
    mismatch: bool
    materials: list[MaterialRow]
    time_limit_from: str | None
    tickets: list[int]
    survivor_values: dict[str, Any] = field(default_factory=dict)
    absorbed_values: dict[str, Any] = field(default_factory=dict)


def _refuse_self(other: int, this: int) -> None:
    if other == this:
        raise InvalidInput(
            "other_case: a case cannot be merged into itself.",
            errors=[{"loc": ["body", "other_case"], "msg": "same case", "type": "value_error"}],
        )


def _other_row(conn: Connection, other_id: int, field_loc: list[str | int]) -> Any:
    try:
        if other_id > MAX_ROW_ID:
            raise NotFound(f"There is no case {other_id}.")
        return case_row(conn, other_id)
    except NotFound as exc:
        raise InvalidInput(
            f"{field_loc[-1]}: there is no case {other_id}.",
            errors=[{"loc": field_loc, "msg": "unknown case", "type": "unknown"}],
        ) from exc


def _link(conn: Connection, case_id: int) -> dict[str, Any]:
    number = conn.execute(select(cases.c.number).where(cases.c.id == case_id)).scalar()
    return {"id": case_id, "number": number}


def refuse_merged(conn: Connection, row: Any) -> None:
    """409 `case-merged` naming the survivor, when `row` is a merged case."""
    if row.status != "merged":
        return
    survivor = _link(conn, row.merged_into_id) if row.merged_into_id else None
    name = survivor["number"] if survivor else "another case"
    raise CaseMerged(
        f"Case {row.number} was merged into case {name}; work on {name} instead.",
        survivor=survivor,
        current={"status": row.status, "version": row.version},
    )


def plan_merge(conn: Connection, this_id: int, other_id: int, survivor_side: str) -> Plan:
    """Check that the two cases can be merged and work out what merging would do."""
    _refuse_self(other_id, this_id)
    this = case_row(conn, this_id)
    other = _other_row(conn, other_id, ["body", "other_case"])
    if other.hall_id != this.hall_id:
        raise MergeRefused(
            f"Case {other.number} belongs to another hall; cases merge only within one hall."
        )
    survivor, absorbed = (this, other) if survivor_side == "this" else (other, this)
    for row, role in ((survivor, "into"), (absorbed, "from")):
        refuse_merged(conn, row)
        if row.status in CLOSED:
            raise MergeRefused(
                f"Case {row.number} is {row.status}: a closed case cannot be merged {role}.",
                current={"status": row.status, "version": row.version},
            )
    if survivor.accepted_on is not None and absorbed.accepted_on is not None:
        raise MergeRefused(
            f"Cases {survivor.number} and {absorbed.number} both have an acceptance (受理) "
            "decision, each with its own notice and promised time limit; they cannot be merged."
        )
    differences, survivor_values, absorbed_values = _applicant_differences(survivor, absorbed)
    time_limit_from = None
    if survivor.accepted_on is not None:
        time_limit_from = "survivor"
    elif absorbed.accepted_on is not None:
        time_limit_from = "absorbed"
    moved = conn.execute(select(tickets.c.id).where(tickets.c.case_id == absorbed.id)).scalars()
    ticket_ids = sorted({*moved, *([absorbed.ticket_id] if absorbed.ticket_id else [])})
    return Plan(
        survivor=survivor,
        absorbed=absorbed,
        differences=differences,
        mismatch=survivor.applicant_id_number != absorbed.applicant_id_number,
        materials=_material_rows(conn, survivor, absorbed),
        time_limit_from=time_limit_from,
        tickets=ticket_ids,
        survivor_values=survivor_values,
        absorbed_values=absorbed_values,
    )


def _applicant_values(row: Any) -> dict[str, Any]:
    declared = (row.details or {}).get("declared") or {}
    record_birth = row.applicant_birth_date.isoformat() if row.applicant_birth_date else None
    return {
        "id_number": row.applicant_id_number,
        "name": row.applicant_name,
        "phone": row.applicant_phone,
        "birth_date": declared.get("birth_date") or record_birth,
        "sex": declared.get("sex") or row.applicant_sex,
    }


def _masked(field_name: str, value: Any) -> str | None:
    if value is None:
        return None
    if field_name == "id_number":
        return mask_resident_id(str(value))
    if field_name == "phone":
        return mask_phone(str(value))
    return str(value)


def _applicant_differences(
    survivor: Any, absorbed: Any
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    mine, theirs = _applicant_values(survivor), _applicant_values(absorbed)
    differences = [
        {
            "field": name,
            "survivor": _masked(name, mine[name]),
            "absorbed": _masked(name, theirs[name]),
        }
        for name in APPLICANT_FIELDS
        if mine[name] is not None and theirs[name] is not None and mine[name] != theirs[name]
    ]
    return differences, mine, theirs


def _material_wire(m: Any) -> dict[str, Any]:
    return {
        "material": m.material_code,
        "file_name": m.file_name,
        "content_type": m.content_type,
        "size": m.size,
        "sha256": m.sha256,
        "origin": m.origin,
        "document": document_to_wire(m.document),
        "merged_from": m.merged_from,
    }


def _holdings(conn: Connection, row: Any) -> dict[str, dict[str, Any]]:
    """Material code → what the case holds for it: its checklist row and its items."""
    held: dict[str, dict[str, Any]] = {}
    for check in conn.execute(select(case_checklist).where(case_checklist.c.case_id == row.id)):
        held.setdefault(check.material_code, {"check": None, "uploads": []})["check"] = check
    for item in conn.execute(
        select(case_materials)
        .where(case_materials.c.case_id == row.id)
        .order_by(case_materials.c.id)
    ):
        held.setdefault(item.material_code, {"check": None, "uploads": []})["uploads"].append(item)
    for code, holding in held.items():
        check = holding["check"]
        holding["code"] = code
        holding["verified"] = check is not None and check.status == "provided"
        holding["time"] = check.updated_at if check is not None and check.updated_at else None
        holding["time"] = holding["time"] or row.submitted_at
    return held


def _catalogue(conn: Connection, item_id: int) -> dict[str, Any]:
    rows = conn.execute(
        select(materials)
        .where(materials.c.service_item_id == item_id)
        .order_by(materials.c.position)
    )
    return {r.code: r for r in rows}


def _default(survivor: dict[str, Any] | None, absorbed: dict[str, Any] | None) -> str:
    if absorbed is None:
        return "survivor"
    if survivor is None:
        return "absorbed"
    if survivor["verified"] != absorbed["verified"]:
        return "survivor" if survivor["verified"] else "absorbed"
    return "absorbed" if absorbed["time"] > survivor["time"] else "survivor"


def _material_rows(conn: Connection, survivor: Any, absorbed: Any) -> list[MaterialRow]:
    mine, theirs = _holdings(conn, survivor), _holdings(conn, absorbed)
    own_catalogue = _catalogue(conn, survivor.service_item_id)
    other_catalogue = _catalogue(conn, absorbed.service_item_id)
    order = [*own_catalogue, *[c for c in other_catalogue if c not in own_catalogue]]
    codes = [c for c in order if c in mine or c in theirs]
    codes += sorted((set(mine) | set(theirs)) - set(codes))
    rows = []
    for code in codes:
        entry = own_catalogue.get(code) or other_catalogue.get(code)
        rows.append(
            MaterialRow(
                code=code,
                name=entry.name if entry is not None else None,
                name_en=entry.name_en if entry is not None else None,
                on_checklist=code in own_catalogue,
                survivor=mine.get(code),
                absorbed=theirs.get(code),
                default=_default(mine.get(code), theirs.get(code)),
            )
        )
    return rows


def _side_wire(holding: dict[str, Any] | None) -> dict[str, Any] | None:
    if holding is None:
        return None
    check = holding["check"]
    return {
        "status": check.status if check is not None else "pending",
        "provided_as": check.provided_as if check is not None else None,
        "verified": holding["verified"],
        "updated_at": check.updated_at if check is not None else None,
        "items": [_material_wire(m) for m in holding["uploads"]],
    }


def preview(conn: Connection, this_id: int, other_id: int, survivor_side: str) -> dict[str, Any]:
    plan = plan_merge(conn, this_id, other_id, survivor_side)
    limit_row = plan.absorbed if plan.time_limit_from == "absorbed" else plan.survivor
    return {
        "survivor": case_summary(plan.survivor),
        "absorbed": case_summary(plan.absorbed),
        "applicant_mismatch": plan.mismatch,
        "differences": plan.differences,
        "materials": [
            {
                "material": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "on_survivor_checklist": r.on_checklist,
                "survivor": _side_wire(r.survivor),
                "absorbed": _side_wire(r.absorbed),
                "default": r.default,
                "differs": r.survivor is not None and r.absorbed is not None,
            }
            for r in plan.materials
        ],
        "time_limit_from": plan.time_limit_from,
        "deadline": limit_row.deadline_on if plan.time_limit_from else None,
        "ticket": plan.survivor.ticket_id or (plan.tickets[0] if plan.tickets else None),
    }


# --- merging ------------------------------------------------------------------------------------


def _lock_cases(conn: Connection, ids: list[int]) -> None:
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


def _raw(conn: Connection, table: Table, *where: Any) -> list[Any]:
    return list(conn.execute(select(table).where(*where).order_by(table.c.id)).all())


def _snapshot(conn: Connection, plan: Plan) -> dict[str, Any]:
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
    _refuse_self(body.other_case, case_id)
    _other_row(conn, body.other_case, ["body", "other_case"])
    _lock_cases(conn, [case_id, body.other_case])
    plan = plan_merge(conn, case_id, body.other_case, body.survivor)
    principal.require_hall(plan.absorbed.hall_id)
    _check_versions(conn, plan, if_match, body.other_version, now)
    _check_applicant(plan, body)
    choices = _choices(plan, body)
    survivor, absorbed = plan.survivor, plan.absorbed
    snapshot = _snapshot(conn, plan)
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
    _event(
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
    _event(
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


def _event(
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


# --- the merge record and undoing it -------------------------------------------------------------


def _merge_row(conn: Connection, merge_id: int) -> Any:
    row = None
    if merge_id <= MAX_ROW_ID:
        row = conn.execute(select(case_merges).where(case_merges.c.id == merge_id)).first()
    if row is None:
        raise NotFound(f"There is no merge {merge_id}.")
    return row


def merge_hall(conn: Connection, merge_id: int) -> int:
    return int(_merge_row(conn, merge_id).hall_id)


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


def _links(conn: Connection, m: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    numbers = dict(
        conn.execute(
            select(cases.c.id, cases.c.number).where(cases.c.id.in_([m.survivor_id, m.absorbed_id]))
        ).all()
    )
    survivor = {"merge": m.id, "case": m.survivor_id, "number": numbers[m.survivor_id]}
    absorbed = {"merge": m.id, "case": m.absorbed_id, "number": numbers[m.absorbed_id]}
    return {**survivor, "at": m.merged_at}, {**absorbed, "at": m.merged_at}


def merge_to_wire(conn: Connection, m: Any, now: datetime) -> dict[str, Any]:
    plan = m.plan or {}
    survivor, absorbed = _links(conn, m)
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
    return merge_to_wire(conn, _merge_row(conn, merge_id), now)


def merges_of_case(conn: Connection, case_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(case_merges)
        .where((case_merges.c.survivor_id == case_id) | (case_merges.c.absorbed_id == case_id))
        .order_by(case_merges.c.id)
    ).all()
    return [merge_to_wire(conn, m, now) for m in rows]


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
        survivor, absorbed = _links(conn, m)
        if m.absorbed_id == case_id:
            merged_into = survivor
        else:
            merged_from.append(absorbed)
    return {"merged_into": merged_into, "merged_from": merged_from}


def unmerge(
    conn: Connection, *, principal: Principal, merge_id: int, note: str | None, now: datetime
) -> dict[str, Any]:
    m = _merge_row(conn, merge_id)
    principal.require_hall(m.hall_id)
    _lock_cases(conn, [m.survivor_id, m.absorbed_id])
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
        _event(
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


# --- a hall case for the visitor being served -----------------------------------------------------


def open_hall_case(
    conn: Connection, *, principal: Principal, ticket_id: int, body: HallCaseOpen, now: datetime
) -> dict[str, Any]:
    """Open a `hall` case for the visitor a clerk is serving and attach it to the ticket."""
    ticket = _ticket(conn, ticket_id)
    principal.require_hall(ticket.hall_id)
    if ticket.status not in SERVING:
        raise InvalidTransition(
            f"Ticket {ticket.number} is {ticket.status}: open a case for a visitor you have "
            "called or are serving.",
            current={"status": ticket.status, "version": ticket.version},
        )
    if principal.window_id is None or ticket.window_id != principal.window_id:
        raise Forbidden(f"Ticket {ticket.number} is held by another window.")
    if ticket.case_id is not None:
        number = _link(conn, ticket.case_id)["number"]
        raise Conflict(
            f"Ticket {ticket.number} already has case {number}.",
            case={"id": ticket.case_id, "number": number},
        )
    item_code = (
        body.service_item
        or conn.execute(
            select(service_items.c.code).where(service_items.c.id == ticket.service_item_id)
        ).scalar_one()
    )
    applicant = body.applicant or _ticket_applicant(conn, ticket)
    intake = CaseIntake(service_item=item_code, channel="hall", applicant=applicant)
    case = intake_case(conn, hall_id=ticket.hall_id, intake=intake, now=now, actor=principal.actor)
    row = case_row(conn, case["id"])
    known = _catalogue(conn, row.service_item_id)
    for index, paper in enumerate(body.materials):
        if paper.material not in known:
            raise InvalidInput(
                f"materials[{index}].material: {paper.material!r} is not a material of service "
                f"item {item_code}.",
                errors=[
                    {
                        "loc": ["body", "materials", index, "material"],
                        "msg": "unknown material",
                        "type": "unknown",
                    }
                ],
            )
        conn.execute(
            insert(case_materials).values(
                case_id=row.id,
                material_code=paper.material,
                origin="hall_paper",
                document=paper.document.model_dump(mode="json") if paper.document else None,
            )
        )
    version = row.version + 1
    conn.execute(
        update(cases)
        .where(cases.c.id == row.id)
        .values(
            status="under_review",
            assignee_id=principal.user_id,
            claimed_at=now,
            ticket_id=ticket.id,
            version=version,
        )
    )
    conn.execute(update(tickets).where(tickets.c.id == ticket.id).values(case_id=row.id))
    _event(
        conn,
        row,
        "case.opened_at_window",
        principal,
        now,
        {
            "status": "under_review",
            "channel": "hall",
            "ticket": ticket.number,
            "assignee": principal.username,
            "materials": [p.material for p in body.materials],
            "version": version,
        },
    )
    return load_case(conn, row.id, now=now)


def _ticket_applicant(conn: Connection, ticket: Any) -> IntakeApplicant:
    if ticket.applicant_id is None:
        raise InvalidInput(
            f"applicant: ticket {ticket.number} has no applicant; give one.",
            errors=[{"loc": ["body", "applicant"], "msg": "field required", "type": "missing"}],
        )
    person = conn.execute(select(applicants).where(applicants.c.id == ticket.applicant_id)).one()
    return IntakeApplicant(
        kind=person.kind,
        id_number=person.id_number,
        name=person.name,
        phone=person.phone,
        birth_date=person.birth_date,
        sex=person.sex,
    )
