"""Provides the notices of a case: issuing one (stored as data in the decision's transaction) and
rendering it again as text or PDF with `backend.cases.notices`.

A notice is stored as the fields of its `NoticeDocument` (JSON), so it prints the same however
often it is fetched. Supplement notices also keep, per material, the checklist revision it was
requested at: the one-time notice rule (一次性告知) compares against those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from api_client.identity import mask_resident_id
from backend.cases.notice_pdf import render_notice_pdf
from backend.cases.notices import NoticeDocument, NoticeItem, NoticeKind, render_notice_text
from backend.db.engine import inserted_id
from backend.db.schema import case_notices, service_items
from backend.hall.catalogue import hall_row
from backend.problems import NotFound


@dataclass(frozen=True)
class IssuedNotice:
    id: int
    number: str


def notice_item(
    name: str,
    name_en: str,
    *,
    needed: str = "",
    needed_en: str = "",
    reason: str = "",
    reason_en: str = "",
    due_on: date | None = None,
) -> dict[str, Any]:
    return {
        "material_name": name,
        "material_name_en": name_en,
        "what_is_needed": needed,
        "what_is_needed_en": needed_en,
        "reason": reason,
        "reason_en": reason_en,
        "due_on": due_on.isoformat() if due_on else None,
    }


@dataclass(frozen=True)
class NoticeDraft:
    """What a decision's notice will say, before it is issued (a preview renders it as is)."""

    kind: NoticeKind
    items: list[dict[str, Any]] = field(default_factory=list)
    deadline: date | None = None
    reason_text: str = ""
    revisions: dict[str, int] = field(default_factory=dict)
    """Supplement notices: material -> its checklist revision (the one-time notice rule)."""


def notice_content(
    conn: Connection, *, case_row: Any, draft: NoticeDraft, clerk_name: str, today: date
) -> dict[str, Any]:
    """The stored form of the notice `draft` would issue now: its document's fields (numbered
    as the case's next notice) and the revisions. Reads only."""
    hall = hall_row(conn, case_row.hall_id)
    item = conn.execute(
        select(service_items).where(service_items.c.id == case_row.service_item_id)
    ).one()
    count = conn.execute(
        select(func.count()).select_from(case_notices).where(case_notices.c.case_id == case_row.id)
    ).scalar_one()
    return {
        "document": {
            "kind": draft.kind,
            "notice_number": f"{case_row.number}-N{count + 1:02d}",
            "case_number": case_row.number,
            "hall_name": hall.name,
            "hall_address": hall.address,
            "applicant_name": case_row.applicant_name,
            "applicant_id_masked": mask_resident_id(case_row.applicant_id_number),
            "service_item_code": item.code,
            "service_item_name": item.name,
            "service_item_name_en": item.name_en,
            "issued_on": today.isoformat(),
            "clerk_name": clerk_name,
            "items": draft.items,
            "deadline": draft.deadline.isoformat() if draft.deadline else None,
            "reason_text": draft.reason_text,
        },
        "revisions": draft.revisions,
    }


def issue_notice(
    conn: Connection,
    *,
    case_row: Any,
    draft: NoticeDraft,
    clerk_name: str,
    now: datetime,
    today: date,
) -> IssuedNotice:
    content = notice_content(
        conn, case_row=case_row, draft=draft, clerk_name=clerk_name, today=today
    )
    number = content["document"]["notice_number"]
    notice_id = inserted_id(
        conn.execute(
            insert(case_notices).values(
                case_id=case_row.id, kind=draft.kind, number=number, issued_at=now, content=content
            )
        )
    )
    return IssuedNotice(int(notice_id), number)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def notice_document(content: dict[str, Any]) -> NoticeDocument:
    fields = dict(content["document"])
    items = tuple(
        NoticeItem(**{**item, "due_on": _date(item.get("due_on"))}) for item in fields.pop("items")
    )
    return NoticeDocument(
        **{
            **fields,
            "issued_on": date.fromisoformat(fields["issued_on"]),
            "deadline": _date(fields.get("deadline")),
        },
        items=items,
    )


def load_notice(conn: Connection, case_id: int, notice_id: int) -> tuple[str, NoticeDocument]:
    row = conn.execute(
        select(case_notices).where(
            case_notices.c.id == notice_id, case_notices.c.case_id == case_id
        )
    ).first()
    if row is None:
        raise NotFound(f"Case {case_id} has no notice {notice_id}.")
    return row.number, notice_document(row.content)


def render(document: NoticeDocument, as_pdf: bool) -> bytes:
    if as_pdf:
        return render_notice_pdf(document)
    return render_notice_text(document).encode("utf-8")
