"""Provides decisions on cases: each one transition of the case with who, when and why.

`apply_decision` checks the case's version (If-Match), that the decision is allowed from the
case's status (else 409 naming the status and the allowed decisions), then runs the decision's
own rules, records it, issues its notice, moves the clock and appends the event - all in the
caller's transaction. The rules:

- accept (受理): every mandatory material provided, nothing owed, no error finding; starts the
  promised time limit (working days from the day after acceptance).
- accept_with_owed (容缺受理): as accept, but some materials (which the catalogue lets be owed)
  are owed; each gets a due date no later than the promised completion date; the notice is the
  pledge notice (告知承诺书).
- supplement (补正): one notice listing every missing or defective material (一次性告知). A later
  request may name only materials that changed since they were last requested; repeating an
  unchanged one is refused. After acceptance the clock pauses until `supplement_received`.
- supplement_received: back to review, or to accepted with the clock restarting the day after.
- reject (不予受理 / 不予许可): a reason code of the hall's list plus free text.
- approve (办结): only from accepted and only when nothing is still owed; stops the clock.
- transfer (转办) to another window or department, with a note; withdraw (撤回).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from api_client.models.decisions import (
    DECISION_SOURCES,
    AcceptDecision,
    AcceptWithOwedDecision,
    ApproveDecision,
    RejectDecision,
    SupplementDecision,
    SupplementItem,
    SupplementReceivedDecision,
    TransferDecision,
    WithdrawDecision,
)
from backend.auth.sessions import Principal
from backend.cases.case_notices import IssuedNotice, issue_notice, notice_item
from backend.cases.findings import case_findings
from backend.cases.merge_links import refuse_merged
from backend.cases.records import (
    HallDay,
    applicant_facts,
    case_row,
    completion_date,
    hall_day_of,
    inserted_id,
    load_case,
    lock_case,
)
from backend.cases.time_limits import deadline_for, pauses_json, pauses_of
from backend.cases.verification import Checklist, load_checklist, requested_materials, set_owed_due
from backend.db.event_log import append_event
from backend.db.schema import case_decisions, cases, departments
from backend.hall.catalogue import hall_rules, window_by_code, window_serves
from backend.problems import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    MaterialsIncomplete,
    NotFound,
    NoticeRepeats,
    PreconditionFailed,
    PreconditionRequired,
)

EVENT_TYPES = {
    "accept": "case.accepted",
    "accept_with_owed": "case.accepted_with_owed",
    "supplement": "case.supplement_requested",
    "supplement_received": "case.supplement_received",
    "reject": "case.rejected",
    "approve": "case.approved",
    "transfer": "case.transferred",
    "withdraw": "case.withdrawn",
}

PROVIDED_AS = {
    "original": ("已核验原件", "original sighted"),
    "copy": ("复印件", "copy"),
    "upload": ("电子文件", "uploaded file"),
    "e_licence": ("电子证照", "e-licence"),
}

Body = (
    AcceptDecision
    | AcceptWithOwedDecision
    | SupplementDecision
    | SupplementReceivedDecision
    | RejectDecision
    | ApproveDecision
    | TransferDecision
    | WithdrawDecision
)


@dataclass
class Context:
    """One decision being applied: the case, who decides, and when."""

    conn: Connection
    row: Any
    principal: Principal
    now: datetime
    day: HallDay
    checklist: Checklist

    @property
    def today(self) -> date:
        return self.day.today

    @property
    def details(self) -> dict[str, Any]:
        return dict(self.row.details or {})


@dataclass
class Change:
    """What a decision does to the case."""

    to_status: str
    values: dict[str, Any] = field(default_factory=dict)
    notice: IssuedNotice | None = None
    reason_code: str | None = None
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def allowed_decisions(row: Any) -> list[str]:
    allowed: list[str] = [
        name for name, sources in DECISION_SOURCES.items() if row.status in sources
    ]
    if row.status == "supplement_requested" and _resume_to(row) == "accepted":
        allowed = [name for name in allowed if name not in ("accept", "accept_with_owed")]
    return allowed


def _resume_to(row: Any) -> str:
    return str((row.details or {}).get("resume_to") or "under_review")


def apply_decision(
    conn: Connection,
    *,
    case_id: int,
    body: Body,
    principal: Principal,
    if_match: int | None,
    now: datetime,
) -> dict[str, Any]:
    lock_case(conn, case_id)
    row = case_row(conn, case_id)
    principal.require_hall(row.hall_id)
    refuse_merged(conn, row)  # 409 naming the survivor, whatever version was sent
    _check_version(conn, row, if_match, now)
    allowed = allowed_decisions(row)
    if body.decision not in allowed:
        raise InvalidTransition(
            f"Case {row.number} is {row.status}; {body.decision} is not possible now "
            f"(allowed: {', '.join(allowed) or 'nothing'}).",
            current={"status": row.status, "version": row.version},
            allowed=allowed,
        )
    ctx = Context(conn, row, principal, now, hall_day_of(conn, row.hall_id, now), Checklist([], []))
    ctx.checklist = load_checklist(conn, row)
    change = HANDLERS[body.decision](ctx, body)
    record = _record(ctx, body.decision, change)
    return {"decision": record, "case": load_case(conn, case_id, now=now)}


def _check_version(conn: Connection, row: Any, if_match: int | None, now: datetime) -> None:
    if if_match is None:
        raise PreconditionRequired(
            f'Send If-Match with the case version you decided on (e.g. "{row.version}").'
        )
    if if_match != row.version:
        raise PreconditionFailed(
            f"Case {row.number} changed (version {row.version}, you sent {if_match}); "
            "look at it again before deciding.",
            current=load_case(conn, row.id, now=now),
        )


def _record(ctx: Context, decision: str, change: Change) -> dict[str, Any]:
    row, principal = ctx.row, ctx.principal
    values = dict(change.values)
    if row.assignee_id is None and principal.role == "clerk" and decision != "transfer":
        values["assignee_id"] = principal.user_id
    version = row.version + 1
    ctx.conn.execute(
        update(cases)
        .where(cases.c.id == row.id)
        .values(status=change.to_status, version=version, **values)
    )
    decision_id = inserted_id(
        ctx.conn.execute(
            insert(case_decisions).values(
                case_id=row.id,
                decision=decision,
                from_status=row.status,
                to_status=change.to_status,
                actor_id=principal.user_id,
                actor=principal.username,
                at=ctx.now,
                reason_code=change.reason_code,
                note=change.note,
                notice_id=change.notice.id if change.notice else None,
                details=_jsonable(change.details),
            )
        )
    )
    _event(ctx, decision, change, version)
    return {
        "id": int(decision_id),
        "decision": decision,
        "from_status": row.status,
        "to_status": change.to_status,
        "actor": principal.username,
        "at": ctx.now,
        "reason_code": change.reason_code,
        "note": change.note,
        "notice": change.notice.id if change.notice else None,
        "details": _jsonable(change.details),
    }


def _event(ctx: Context, decision: str, change: Change, version: int) -> None:
    payload: dict[str, Any] = {
        "number": ctx.row.number,
        "decision": decision,
        "from": ctx.row.status,
        "status": change.to_status,
        "service_item": ctx.row.item_code,
        "version": version,
        "notice": change.notice.number if change.notice else None,
    }
    if "deadline_on" in change.values:
        payload["deadline"] = change.values["deadline_on"]
    if "clock_state" in change.values:
        payload["clock"] = change.values["clock_state"]
    append_event(
        ctx.conn,
        hall_id=ctx.row.hall_id,
        type=EVENT_TYPES[decision],
        subject_type="case",
        subject_id=ctx.row.id,
        actor=ctx.principal.actor,
        at=ctx.now,
        payload=_jsonable(payload),
    )


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


# --- materials and findings ---------------------------------------------------------------------


def _error_findings(ctx: Context) -> list[dict[str, Any]]:
    completion = completion_date(ctx.row, {}, ctx.today)
    found = case_findings(
        applicant_facts(ctx.row), ctx.checklist.facts, today=ctx.today, completion_date=completion
    )
    return [f for f in found if f["severity"] == "error"]


def _require_complete(ctx: Context, *, owed_allowed: bool) -> list[dict[str, Any]]:
    """Every mandatory material provided (or owed, when allowed); no error finding.
    Returns the owed rows."""
    owed = [r for r in ctx.checklist.rows if r["status"] == "owed"]
    lacking = [
        r["material"]
        for r in ctx.checklist.rows
        if r["mandatory"]
        and r["status"] not in (("provided", "owed") if owed_allowed else ("provided",))
    ]
    if owed and not owed_allowed:
        lacking += [r["material"] for r in owed if r["material"] not in lacking]
    errors = _error_findings(ctx)
    if lacking or errors:
        raise MaterialsIncomplete(
            _incomplete_detail(ctx.row.number, lacking, errors, owed_allowed),
            materials=lacking,
            findings=errors,
        )
    return owed


def _incomplete_detail(
    number: str, lacking: list[str], errors: list[dict[str, Any]], owed_allowed: bool
) -> str:
    parts = []
    if lacking:
        hint = "" if owed_allowed else " (owed materials need accept_with_owed)"
        parts.append(f"not provided: {', '.join(lacking)}{hint}")
    if errors:
        parts.append(
            f"{len(errors)} finding(s) of severity error: "
            + "; ".join(e["message_en"] for e in errors[:3])
        )
    return f"Case {number} cannot be accepted: " + "; ".join(parts) + "."


def _provided_items(ctx: Context) -> list[dict[str, Any]]:
    items = []
    for row in ctx.checklist.rows:
        if row["status"] != "provided":
            continue
        zh, en = PROVIDED_AS.get(row["provided_as"] or "", ("", ""))
        items.append(notice_item(row["name"], row["name_en"], needed=zh, needed_en=en))
    return items


# --- the decisions ------------------------------------------------------------------------------


def _start_clock(ctx: Context) -> dict[str, Any]:
    deadline = deadline_for(ctx.today, ctx.row.promised_days, [], ctx.today)
    details = ctx.details
    details.pop("resume_to", None)
    return {
        "accepted_on": ctx.today,
        "deadline_on": deadline,
        "clock_state": "running",
        "details": {**details, "pauses": []},
    }


def accept(ctx: Context, body: AcceptDecision) -> Change:
    _require_complete(ctx, owed_allowed=False)
    values = _start_clock(ctx)
    notice = issue_notice(
        ctx.conn,
        case_row=ctx.row,
        kind="accept",
        clerk_name=ctx.principal.display_name,
        now=ctx.now,
        today=ctx.today,
        items=_provided_items(ctx),
        deadline=values["deadline_on"],
    )
    return Change(
        "accepted", values, notice, note=body.note, details={"deadline": values["deadline_on"]}
    )


def accept_with_owed(ctx: Context, body: AcceptWithOwedDecision) -> Change:
    owed = _require_complete(ctx, owed_allowed=True)
    if not owed:
        raise Conflict(
            f"Case {ctx.row.number}: no material is marked owed; use accept.",
            current={"status": ctx.row.status, "version": ctx.row.version},
            allowed=["accept"],
        )
    values = _start_clock(ctx)
    deadline: date = values["deadline_on"]
    due = _owed_due_dates(body, [r["material"] for r in owed], ctx.today, deadline)
    set_owed_due(ctx.conn, ctx.row.id, due)
    items = [
        notice_item(
            r["name"],
            r["name_en"],
            needed=f"补交{r['name']}",
            needed_en=f"Supply {r['name_en']}",
            due_on=due[r["material"]],
        )
        for r in owed
    ]
    notice = issue_notice(
        ctx.conn,
        case_row=ctx.row,
        kind="owed",
        clerk_name=ctx.principal.display_name,
        now=ctx.now,
        today=ctx.today,
        items=items,
        deadline=deadline,
    )
    details = {"deadline": deadline, "owed": {code: d.isoformat() for code, d in due.items()}}
    return Change("accepted", values, notice, note=body.note, details=details)


def _owed_due_dates(
    body: AcceptWithOwedDecision, owed: list[str], today: date, deadline: date
) -> dict[str, date]:
    due = dict.fromkeys(owed, deadline)
    for index, entry in enumerate(body.owed_due):
        loc = ["body", "owed_due", index]
        if entry.material not in due:
            raise InvalidInput(
                f"owed_due[{index}].material: {entry.material!r} is not owed on this case.",
                errors=[{"loc": [*loc, "material"], "msg": "not owed", "type": "value_error"}],
            )
        if not today <= entry.due_on <= deadline:
            raise InvalidInput(
                f"owed_due[{index}].due_on: {entry.due_on} must be between today ({today}) and "
                f"the promised completion date ({deadline}).",
                errors=[{"loc": [*loc, "due_on"], "msg": "out of range", "type": "value_error"}],
            )
        due[entry.material] = entry.due_on
    return due


def supplement(ctx: Context, body: SupplementDecision) -> Change:
    items, revisions = _supplement_items(ctx, body.items)
    notice = issue_notice(
        ctx.conn,
        case_row=ctx.row,
        kind="supplement",
        clerk_name=ctx.principal.display_name,
        now=ctx.now,
        today=ctx.today,
        items=items,
        revisions=revisions,
    )
    values: dict[str, Any] = {}
    details = ctx.details
    if ctx.row.status == "accepted":
        spans = [*pauses_of(details), (ctx.today, None)]
        details.update(pauses=pauses_json(spans), resume_to="accepted")
        values = {"clock_state": "paused", "details": details}
    elif ctx.row.status != "supplement_requested":
        details["resume_to"] = "under_review"
        values = {"details": details}
    change_details = {"materials": sorted(revisions)}
    return Change("supplement_requested", values, notice, note=body.note, details=change_details)


def _supplement_items(
    ctx: Context, named: list[SupplementItem]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rows = {r["material"]: r for r in ctx.checklist.rows}
    requested = requested_materials(ctx.conn, ctx.row.id)
    _refuse_unknown(named, rows)
    unchanged = [
        code
        for code, (_, rev) in requested.items()
        if code in rows and rows[code]["revision"] == rev
    ]
    repeats = [item.material for item in named if item.material in unchanged]
    if repeats:
        raise NoticeRepeats(
            f"{', '.join(repeats)} already requested in notice "
            f"{requested[repeats[0]][0]} and unchanged since: a supplement notice lists "
            "everything at once (一次性告知), so it cannot be requested again.",
            materials=repeats,
        )
    reasons = _defects(ctx)
    chosen = {item.material: item for item in named}
    for code in reasons:
        if code not in chosen and code not in unchanged:
            chosen[code] = SupplementItem(material=code)
    if not chosen:
        raise Conflict(
            f"Case {ctx.row.number}: nothing is missing or defective that was not already "
            "requested; name the materials to supplement.",
            current={"status": ctx.row.status, "version": ctx.row.version},
        )
    ordered = [code for code in rows if code in chosen]
    items = [_supplement_item(rows[c], chosen[c], reasons.get(c)) for c in ordered]
    return items, {code: rows[code]["revision"] for code in ordered}


def _refuse_unknown(named: list[SupplementItem], rows: dict[str, Any]) -> None:
    for index, item in enumerate(named):
        if item.material not in rows:
            raise InvalidInput(
                f"items[{index}].material: {item.material!r} is not a material of this case.",
                errors=[
                    {
                        "loc": ["body", "items", index, "material"],
                        "msg": "unknown material",
                        "type": "unknown",
                    }
                ],
            )
    codes = [item.material for item in named]
    if len(set(codes)) != len(codes):
        raise InvalidInput(
            "items: a material is listed twice.",
            errors=[{"loc": ["body", "items"], "msg": "duplicate", "type": "value_error"}],
        )


ABSENT_REASON, ABSENT_REASON_EN = "尚未提交", "not supplied"


def _defects(ctx: Context) -> dict[str, tuple[str, str]]:
    """Material → (reason zh, reason en) for every mandatory material missing and every
    material with an error finding."""
    reasons: dict[str, tuple[str, str]] = {}
    for finding in _error_findings(ctx):
        code = finding["material"]
        if code and code not in reasons:
            # the notice names the material on the same line: "not supplied" says the rest
            absent = finding["code"] == "material_absent"
            reasons[code] = (
                ABSENT_REASON if absent else finding["message_zh"],
                ABSENT_REASON_EN if absent else finding["message_en"],
            )
    return reasons


def _supplement_item(
    row: dict[str, Any], item: SupplementItem, reason: tuple[str, str] | None
) -> dict[str, Any]:
    zh, en = reason or ("", "")
    return notice_item(
        row["name"],
        row["name_en"],
        needed=item.what_is_needed or f"提交{row['name']}",
        needed_en=item.what_is_needed_en or f"Supply {row['name_en']}",
        reason=item.reason or zh or "材料不符合要求",
        reason_en=item.reason_en or en or "The material does not meet the requirements",
    )


def supplement_received(ctx: Context, body: SupplementReceivedDecision) -> Change:
    details = ctx.details
    resume_to = str(details.pop("resume_to", None) or "under_review")
    values: dict[str, Any] = {"details": details}
    if resume_to == "accepted":
        spans = [(start, end or ctx.today) for start, end in pauses_of(details)]
        details["pauses"] = pauses_json(spans)
        deadline = deadline_for(ctx.row.accepted_on, ctx.row.promised_days, spans, ctx.today)
        values.update(clock_state="running", deadline_on=deadline)
    return Change(resume_to, values, note=body.note, details={"arrived_on": ctx.today})


def _stop_clock(ctx: Context) -> dict[str, Any]:
    if ctx.row.accepted_on is None:
        return {}
    details = ctx.details
    spans = [(start, end or ctx.today) for start, end in pauses_of(details)]
    details["pauses"] = pauses_json(spans)
    details.pop("resume_to", None)
    deadline = deadline_for(ctx.row.accepted_on, ctx.row.promised_days, spans, ctx.today)
    return {
        "clock_state": "stopped",
        "completed_on": ctx.today,
        "deadline_on": deadline,
        "details": details,
    }


def reject(ctx: Context, body: RejectDecision) -> Change:
    reasons = {
        r["code"]: r for r in hall_rules(ctx.conn, ctx.row.hall_id).get("reject_reasons", [])
    }
    reason = reasons.get(body.reason_code)
    if reason is None:
        raise InvalidInput(
            f"reason_code: {body.reason_code!r} is not one of the hall's reasons "
            f"({', '.join(reasons)}).",
            errors=[{"loc": ["body", "reason_code"], "msg": "unknown reason", "type": "unknown"}],
        )
    text = f"{reason['text']}（{reason['text_en']}）。{body.reason_text}"
    notice = issue_notice(
        ctx.conn,
        case_row=ctx.row,
        kind="reject",
        clerk_name=ctx.principal.display_name,
        now=ctx.now,
        today=ctx.today,
        items=[],
        reason_text=text,
    )
    return Change(
        "rejected", _stop_clock(ctx), notice, reason_code=body.reason_code, note=body.reason_text
    )


def approve(ctx: Context, body: ApproveDecision) -> Change:
    owed = [r["material"] for r in ctx.checklist.rows if r["status"] == "owed"]
    if owed:
        raise MaterialsIncomplete(
            f"Case {ctx.row.number} still owes {', '.join(owed)}: record them as provided "
            "before approving.",
            materials=owed,
        )
    values = _stop_clock(ctx)
    notice = issue_notice(
        ctx.conn,
        case_row=ctx.row,
        kind="approve",
        clerk_name=ctx.principal.display_name,
        now=ctx.now,
        today=ctx.today,
        items=[],
    )
    return Change("approved", values, notice, note=body.note)


def transfer(ctx: Context, body: TransferDecision) -> Change:
    target = _transfer_target(ctx, body)
    details = {**ctx.details, "transferred_to": target}
    to_status = "submitted" if ctx.row.status in ("submitted", "under_review") else ctx.row.status
    values = {"assignee_id": None, "details": details}
    return Change(to_status, values, note=body.note, details={"target": target})


def _transfer_target(ctx: Context, body: TransferDecision) -> dict[str, Any]:
    if body.target_window is not None:
        try:
            window = window_by_code(ctx.conn, ctx.row.hall_id, body.target_window)
        except NotFound as exc:
            raise _bad_target(
                "target_window", f"there is no window {body.target_window!r}"
            ) from exc
        if not window_serves(ctx.conn, window.id, ctx.row.service_item_id):
            raise _bad_target("target_window", f"{window.code} does not serve {ctx.row.item_code}")
        return {"window": window.code}
    department = ctx.conn.execute(
        select(departments.c.code).where(
            departments.c.hall_id == ctx.row.hall_id, departments.c.code == body.target_department
        )
    ).scalar()
    if department is None:
        raise _bad_target("target_department", f"there is no department {body.target_department!r}")
    return {"department": department}


def _bad_target(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"{field_name}: {message}.",
        errors=[{"loc": ["body", field_name], "msg": message, "type": "value_error"}],
    )


def withdraw(ctx: Context, body: WithdrawDecision) -> Change:
    return Change("withdrawn", _stop_clock(ctx), note=body.note)


HANDLERS: dict[str, Callable[[Context, Any], Change]] = {
    "accept": accept,
    "accept_with_owed": accept_with_owed,
    "supplement": supplement,
    "supplement_received": supplement_received,
    "reject": reject,
    "approve": approve,
    "transfer": transfer,
    "withdraw": withdraw,
}
