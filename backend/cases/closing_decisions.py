"""Provides the decisions that end a case or pass it on: reject, approve, transfer and withdraw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api_client.models.decisions import (
    ApproveDecision,
    RejectDecision,
    TransferDecision,
    WithdrawDecision,
)
from backend.cases.case_notices import NoticeDraft
from backend.cases.decision_context import Change, Context, stop_clock
from backend.db.schema import departments
from backend.hall.catalogue import hall_rules, window_by_code, window_serves
from backend.problems import InvalidInput, MaterialsIncomplete, NotFound


def reject_notice(ctx: Context, body: RejectDecision) -> NoticeDraft:
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
    return NoticeDraft("reject", reason_text=text)


def reject(ctx: Context, body: RejectDecision) -> Change:
    notice = ctx.issue(reject_notice(ctx, body))
    return Change(
        "rejected", stop_clock(ctx), notice, reason_code=body.reason_code, note=body.reason_text
    )


def approve_notice(ctx: Context, body: ApproveDecision) -> NoticeDraft:
    owed = [r["material"] for r in ctx.checklist.rows if r["status"] == "owed"]
    if owed:
        raise MaterialsIncomplete(
            f"Case {ctx.row.number} still owes {', '.join(owed)}: record them as provided "
            "before approving.",
            materials=owed,
        )
    return NoticeDraft("approve")


def approve(ctx: Context, body: ApproveDecision) -> Change:
    draft = approve_notice(ctx, body)
    values = stop_clock(ctx)
    return Change("approved", values, ctx.issue(draft), note=body.note)


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
    return Change("withdrawn", stop_clock(ctx), note=body.note)
