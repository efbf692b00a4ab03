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
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, update

from api_client.models.decisions import (
    DECISION_SOURCES,
    AcceptDecision,
    AcceptWithOwedDecision,
    ApproveDecision,
    RejectDecision,
    SupplementDecision,
    SupplementReceivedDecision,
    TransferDecision,
    WithdrawDecision,
)
from backend.auth.sessions import Principal
from backend.cases.closing_decisions import approve, reject, transfer, withdraw
from backend.cases.decision_context import Change, Context
from backend.cases.merge_links import refuse_merged
from backend.cases.records import case_row, load_case, lock_case
from backend.cases.review_decisions import accept, accept_with_owed, supplement, supplement_received
from backend.cases.time_limits import hall_day_of
from backend.cases.verification import load_checklist
from backend.db.engine import inserted_id
from backend.db.event_log import append_event
from backend.db.schema import case_decisions, cases
from backend.problems import InvalidTransition, PreconditionFailed, PreconditionRequired

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
    ctx = decision_context(conn, row, body.decision, principal, now)
    change = HANDLERS[body.decision](ctx, body)
    record = _record(ctx, body.decision, change)
    return {"decision": record, "case": load_case(conn, case_id, now=now)}


def decision_context(
    conn: Connection, row: Any, decision: str, principal: Principal, now: datetime
) -> Context:
    """What `decision` on the case runs with, or 409 when its status does not allow it."""
    allowed = allowed_decisions(row)
    if decision not in allowed:
        raise InvalidTransition(
            f"Case {row.number} is {row.status}; {decision} is not possible now "
            f"(allowed: {', '.join(allowed) or 'nothing'}).",
            current={"status": row.status, "version": row.version},
            allowed=allowed,
        )
    day = hall_day_of(conn, row.hall_id, now)
    return Context(conn, row, principal, now, day, load_checklist(conn, row))


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


# --- the decisions ------------------------------------------------------------------------------


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
