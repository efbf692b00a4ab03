"""Provides the decisions of review: accept, accept with owed materials (容缺受理), request a
supplement (补正, one notice listing everything missing) and receive it."""

from __future__ import annotations

from datetime import date
from typing import Any

from api_client.models.decisions import (
    AcceptDecision,
    AcceptWithOwedDecision,
    SupplementDecision,
    SupplementItem,
    SupplementReceivedDecision,
)
from backend.cases.case_notices import NoticeDraft, notice_item
from backend.cases.decision_context import (
    Change,
    Context,
    error_findings,
    provided_items,
    require_complete,
    start_clock,
)
from backend.cases.time_limits import deadline_for, pauses_json, pauses_of
from backend.cases.verification import requested_materials, set_owed_due
from backend.problems import Conflict, InvalidInput, NoticeRepeats

ABSENT_REASON, ABSENT_REASON_EN = "尚未提交", "not supplied"


def accept_notice(ctx: Context, body: AcceptDecision) -> NoticeDraft:
    require_complete(ctx, owed_allowed=False)
    deadline = start_clock(ctx)["deadline_on"]
    return NoticeDraft("accept", provided_items(ctx), deadline=deadline)


def accept(ctx: Context, body: AcceptDecision) -> Change:
    draft = accept_notice(ctx, body)
    values = start_clock(ctx)
    notice = ctx.issue(draft)
    return Change(
        "accepted", values, notice, note=body.note, details={"deadline": values["deadline_on"]}
    )


def _owed_plan(ctx: Context, body: AcceptWithOwedDecision) -> tuple[NoticeDraft, dict[str, date]]:
    """The pledge notice and each owed material's due date."""
    owed = require_complete(ctx, owed_allowed=True)
    if not owed:
        raise Conflict(
            f"Case {ctx.row.number}: no material is marked owed; use accept.",
            current={"status": ctx.row.status, "version": ctx.row.version},
            allowed=["accept"],
        )
    deadline: date = start_clock(ctx)["deadline_on"]
    due = _owed_due_dates(body, [r["material"] for r in owed], ctx.today, deadline)
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
    return NoticeDraft("owed", items, deadline=deadline), due


def owed_notice(ctx: Context, body: AcceptWithOwedDecision) -> NoticeDraft:
    return _owed_plan(ctx, body)[0]


def accept_with_owed(ctx: Context, body: AcceptWithOwedDecision) -> Change:
    draft, due = _owed_plan(ctx, body)
    values = start_clock(ctx)
    set_owed_due(ctx.conn, ctx.row.id, due)
    notice = ctx.issue(draft)
    details = {"deadline": draft.deadline, "owed": {code: d.isoformat() for code, d in due.items()}}
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


def supplement_notice(ctx: Context, body: SupplementDecision) -> NoticeDraft:
    items, revisions = _supplement_items(ctx, body.items)
    return NoticeDraft("supplement", items, revisions=revisions)


def supplement(ctx: Context, body: SupplementDecision) -> Change:
    draft = supplement_notice(ctx, body)
    notice = ctx.issue(draft)
    revisions = draft.revisions
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
    errors = error_findings(ctx)
    reasons = _reasons(ctx.checklist.rows, errors)
    chosen = {item.material: item for item in named}
    for code in dict.fromkeys(f["material"] for f in errors if f["material"]):
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


def _absent(row: dict[str, Any]) -> bool:
    """Not supplied: recorded missing, or not recorded and nothing uploaded (mandatory or not)."""
    return row["status"] == "missing" or (row["status"] == "pending" and not row["uploaded"])


def _reasons(
    rows: list[dict[str, Any]], errors: list[dict[str, Any]]
) -> dict[str, tuple[str, str]]:
    """Material → (reasons zh, reasons en): every reason it cannot stand, joined - "not
    supplied" when it is absent (mandatory or optional) and the message of each of its error
    findings. The notice lists a material with no reason only when the clerk gives one."""
    reasons: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        if _absent(row):
            # the notice names the material on the same line: "not supplied" says the rest
            reasons[row["material"]] = [(ABSENT_REASON, ABSENT_REASON_EN)]
    for finding in errors:
        code = finding["material"]
        if not code or finding["code"] == "material_absent":
            continue
        reason = (finding["message_zh"], finding["message_en"])
        if reason not in reasons.setdefault(code, []):
            reasons[code].append(reason)
    return {
        code: ("；".join(zh for zh, _ in found), "; ".join(en for _, en in found))
        for code, found in reasons.items()
    }


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
