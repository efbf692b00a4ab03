"""Provides the preview of a decision's notice: the text the notice would have if the decision
were taken now, made by the same rules and renderer as the notice it issues, and written nowhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from api_client.models.decisions import NoticeDecision
from backend.auth.sessions import Principal
from backend.cases.case_notices import NoticeDraft, notice_document
from backend.cases.closing_decisions import approve_notice, reject_notice
from backend.cases.decision_context import Context
from backend.cases.decisions import decision_context
from backend.cases.merge_links import refuse_merged
from backend.cases.notices import render_notice_text
from backend.cases.records import case_row
from backend.cases.review_decisions import accept_notice, owed_notice, supplement_notice

DRAFTS: dict[str, Callable[[Context, Any], NoticeDraft]] = {
    "accept": accept_notice,
    "accept_with_owed": owed_notice,
    "supplement": supplement_notice,
    "reject": reject_notice,
    "approve": approve_notice,
}


def preview_notice(
    conn: Connection, *, case_id: int, body: NoticeDecision, principal: Principal, now: datetime
) -> dict[str, Any]:
    """The notice `body` would issue on the case now, refused exactly as the decision would be
    (its status, its materials, its input), with the case version it was made from."""
    row = case_row(conn, case_id)
    principal.require_hall(row.hall_id)
    refuse_merged(conn, row)
    ctx = decision_context(conn, row, body.decision, principal, now)
    document = notice_document(ctx.content(DRAFTS[body.decision](ctx, body)))
    return {
        "kind": document.kind,
        "number": document.notice_number,
        "case_version": row.version,
        "text": render_notice_text(document),
    }
