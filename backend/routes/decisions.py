"""Provides the decision endpoint of a case and its notices as PDF or plain text."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Response
from sqlalchemy import Connection

from api_client.models import DecisionRequest, DecisionResult, NoticeDecisionRequest, NoticePreview
from backend.cases.case_notices import load_notice, render
from backend.cases.decisions import apply_decision
from backend.cases.notice_preview import preview_notice
from backend.cases.records import case_hall
from backend.problems import ApiProblem, NotFound
from backend.routes.common import Staff, State
from backend.routes.versioned import VersionedWrite

router = APIRouter(prefix="/api/v1", tags=["decisions"])

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOTICE_PATH = re.compile(r"^(\d{1,18})(?:\.(pdf|txt))?$")
MEDIA = {"pdf": "application/pdf", "txt": "text/plain; charset=utf-8"}


class NotAcceptable(ApiProblem):
    status, kind, title = 406, "not-acceptable", "No acceptable representation"


@router.post(
    "/cases/{case}/decisions",
    status_code=201,
    response_model=DecisionResult,
    responses={403: {}, 404: {}, 409: {}, 412: {}, 422: {}, 428: {}},
    summary="Decide on a case: accept, supplement, reject, approve, transfer, withdraw …",
)
async def decide(
    case: CaseId,
    body: Annotated[DecisionRequest, Body()],
    principal: Staff,
    write: VersionedWrite,
) -> Any:
    return await write.run(
        lambda conn, now, version: apply_decision(
            conn, case_id=case, body=body, principal=principal, if_match=version, now=now
        ),
        status=201,
        principal=principal,
        hall_of=lambda conn: case_hall(conn, case),
        version_of=lambda result: result["case"]["version"],
    )


@router.post(
    "/cases/{case}/notice-preview",
    response_model=NoticePreview,
    responses={403: {}, 404: {}, 409: {}, 422: {}},
    summary="The notice a decision would issue now, as text, without deciding",
    description="Read-only (no Idempotency-Key, nothing is written): the body is the decision "
    "as it would be sent to `/cases/{case}/decisions` (accept, accept_with_owed, supplement, "
    "reject or approve); it is refused as that decision would be.",
)
async def notice_preview(
    case: CaseId,
    body: Annotated[NoticeDecisionRequest, Body()],
    principal: Staff,
    state: State,
) -> Any:
    now = state.clock.now()
    return await state.db.read(
        lambda conn: preview_notice(conn, case_id=case, body=body, principal=principal, now=now)
    )


def choose_format(suffix: str | None, accept: str | None) -> str:
    """`pdf` or `txt`: the suffix wins, then the Accept header (PDF when anything goes)."""
    if suffix:
        return suffix
    ranked = []
    for position, part in enumerate((accept or "*/*").split(",")):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, position, media.strip().lower()))
    for quality, _, media in sorted(ranked):
        if quality == 0:
            break
        if media in ("application/pdf", "application/*", "*/*"):
            return "pdf"
        if media in ("text/plain", "text/*"):
            return "txt"
    raise NotAcceptable("Notices come as application/pdf or text/plain; ask for one of them.")


@router.get(
    "/cases/{case}/notices/{notice}",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}, "text/plain": {}},
            "description": "The notice; `{notice}` is its id, optionally with .pdf or .txt.",
        },
        403: {},
        404: {},
        406: {},
    },
    summary="A notice of the case as PDF or plain text",
)
async def notice(
    case: CaseId,
    notice: Annotated[str, Path(max_length=30, description="e.g. 3, 3.pdf or 3.txt")],
    principal: Staff,
    state: State,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    match = NOTICE_PATH.match(notice)
    if match is None:
        raise NotFound(f"There is no notice {notice!r}.")
    notice_id, suffix = int(match.group(1)), match.group(2)
    kind = choose_format(suffix, accept)

    def query(conn: Connection) -> Any:
        principal.require_hall(case_hall(conn, case))
        return load_notice(conn, case, notice_id)

    number, document = await state.db.read(query)
    content = render(document, kind == "pdf")
    disposition = f'inline; filename="{number}.{kind}"'
    return Response(content, media_type=MEDIA[kind], headers={"Content-Disposition": disposition})
