"""Provides what a decision's rules run with (`Context`) and answer (`Change`), and the checks
and clock moves several decisions share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from backend.auth.sessions import Principal
from backend.cases.case_notices import (
    IssuedNotice,
    NoticeDraft,
    issue_notice,
    notice_content,
    notice_item,
)
from backend.cases.findings import case_findings
from backend.cases.records import applicant_facts
from backend.cases.time_limits import HallDay, completion_date, deadline_for, pauses_json, pauses_of
from backend.cases.verification import Checklist
from backend.problems import MaterialsIncomplete

PROVIDED_AS = {
    "original": ("已核验原件", "original sighted"),
    "copy": ("复印件", "copy"),
    "upload": ("电子文件", "uploaded file"),
    "e_licence": ("电子证照", "e-licence"),
}


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

    def issue(self, draft: NoticeDraft) -> IssuedNotice:
        """Issue the drafted notice, signed by whoever decides, dated the hall's today."""
        return issue_notice(
            self.conn,
            case_row=self.row,
            draft=draft,
            clerk_name=self.principal.display_name,
            now=self.now,
            today=self.today,
        )

    def content(self, draft: NoticeDraft) -> dict[str, Any]:
        """What `issue(draft)` would store, without issuing it."""
        return notice_content(
            self.conn,
            case_row=self.row,
            draft=draft,
            clerk_name=self.principal.display_name,
            today=self.today,
        )


@dataclass
class Change:
    """What a decision does to the case."""

    to_status: str
    values: dict[str, Any] = field(default_factory=dict)
    notice: IssuedNotice | None = None
    reason_code: str | None = None
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def error_findings(ctx: Context) -> list[dict[str, Any]]:
    completion = completion_date(ctx.row, {}, ctx.today)
    found = case_findings(
        applicant_facts(ctx.row), ctx.checklist.facts, today=ctx.today, completion_date=completion
    )
    return [f for f in found if f["severity"] == "error"]


def require_complete(ctx: Context, *, owed_allowed: bool) -> list[dict[str, Any]]:
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
    errors = error_findings(ctx)
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


def provided_items(ctx: Context) -> list[dict[str, Any]]:
    items = []
    for row in ctx.checklist.rows:
        if row["status"] != "provided":
            continue
        zh, en = PROVIDED_AS.get(row["provided_as"] or "", ("", ""))
        items.append(notice_item(row["name"], row["name_en"], needed=zh, needed_en=en))
    return items


def start_clock(ctx: Context) -> dict[str, Any]:
    deadline = deadline_for(ctx.today, ctx.row.promised_days, [], ctx.today)
    details = ctx.details
    details.pop("resume_to", None)
    return {
        "accepted_on": ctx.today,
        "deadline_on": deadline,
        "clock_state": "running",
        "details": {**details, "pauses": []},
    }


def stop_clock(ctx: Context) -> dict[str, Any]:
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
