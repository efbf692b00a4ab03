"""Provides the document routes (issue 20): upload by SHA-256 and read back.

The upload takes no Idempotency-Key (one sent is ignored): storing bytes under their own hash is
idempotent by nature, and the body streams to the store instead of being held for the key's
request hash. Its body limit is `max_document_bytes`, not the API's (see `server/app.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api_client.models.documents import StoredDocument
from backend.auth.sessions import Principal, require_roles
from backend.documents.access import open_for_reading
from backend.documents.inspection import HANDLED
from backend.documents.store import DocumentStore, Uploader
from backend.routes.common import AnyUser, State

router = APIRouter(prefix="/api/v1", tags=["documents"])

DOCUMENTS_PATH = "/api/v1/documents/"
Uploading = Annotated[
    Principal, Depends(require_roles("terminal", "portal", "clerk", "supervisor", "admin"))
]
DocumentHash = Annotated[
    str,
    Path(pattern=r"^[0-9a-f]{64}$", description="The SHA-256 of the bytes, lower-case hex."),
]
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_UPLOAD_BODY = {
    "required": True,
    "description": "The document's bytes. The declared Content-Type is not trusted: the type "
    "is sniffed from the bytes.",
    "content": {media_type: _BINARY for media_type in ("application/octet-stream", *HANDLED)},
}


def _store(request: Request) -> DocumentStore:
    store: DocumentStore = request.app.state.documents
    return store


@router.put(
    "/documents/{sha256}",
    response_model=StoredDocument,
    status_code=201,
    responses={
        200: {"model": StoredDocument, "description": "Those bytes were already stored"},
        201: {"description": "Stored"},
        403: {},
        413: {"description": "Larger than the server takes for one document"},
        415: {"description": "Not a kind of document the hall handles (told from the bytes)"},
        422: {},
    },
    openapi_extra={"requestBody": _UPLOAD_BODY},
    summary="Store a document under the SHA-256 of its bytes",
)
async def put_document(
    sha256: DocumentHash, principal: Uploading, state: State, request: Request
) -> JSONResponse:
    uploader = Uploader(principal.actor, principal.hall_id, state.clock.now())
    document, created = await _store(request).put(sha256, request.stream(), uploader)
    if created:
        state.notifier.notify()
    return JSONResponse(document.wire(), status_code=201 if created else 200)


@router.get(
    "/documents/{sha256}",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {media_type: _BINARY for media_type in HANDLED},
            "description": "The document's bytes, with the media type sniffed when stored.",
        },
        403: {},
        404: {},
        422: {},
    },
    summary="A document's bytes (staff of a hall with a case that refers to it)",
)
async def get_document(
    sha256: DocumentHash, principal: AnyUser, state: State, request: Request
) -> StreamingResponse:
    # the roles that never read documents back get 403 from the room (`open_for_reading`),
    # which answers 404 for a document no case the caller may read refers to
    now = state.clock.now()
    document = await state.write(open_for_reading, principal, sha256, now)
    chunks: Iterator[bytes] = _store(request).get(document)
    # the first frame is opened before the answer starts: a missing or damaged document is
    # then a clean 500 problem, not a cut-off body
    first: Any = await run_in_threadpool(next, chunks, b"")
    return StreamingResponse(
        chain([first], chunks),
        media_type=document.media_type,
        headers={
            "Content-Length": str(document.size),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
