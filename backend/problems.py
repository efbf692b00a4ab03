"""Provides the API's errors: `ApiProblem` and its kinds, rendered as RFC 9457 problem+json.

Route code raises one of the subclasses; the handlers installed by `install_problem_handlers`
turn it (and FastAPI's own validation and HTTP errors) into `application/problem+json`, with a
stable `type` per kind so clients can branch on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://service-workbench.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class ApiProblem(Exception):
    """A refusal the API explains to its caller."""

    status: ClassVar[int] = 400
    kind: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class Unauthenticated(ApiProblem):
    status, kind, title = 401, "unauthenticated", "Authentication required"


class TokenExpired(Unauthenticated):
    kind, title = "token-expired", "The session has expired"


class TokenRevoked(Unauthenticated):
    kind, title = "token-revoked", "The session was ended"


class InvalidCredentials(Unauthenticated):
    kind, title = "invalid-credentials", "Wrong user name or password"


class AccountLocked(ApiProblem):
    status, kind, title = 423, "account-locked", "The account is locked"


class Forbidden(ApiProblem):
    status, kind, title = 403, "forbidden", "Not allowed for this role or hall"


class NotFound(ApiProblem):
    status, kind, title = 404, "not-found", "No such resource"


class Conflict(ApiProblem):
    status, kind, title = 409, "conflict", "Not possible in the current state"


class InvalidTransition(Conflict):
    kind, title = "invalid-transition", "Not possible in the current state"


class WindowTaken(Conflict):
    kind, title = "window-taken", "The window is in use"


class RecallTooSoon(Conflict):
    kind, title = "recall-too-soon", "Recalled too soon"


class IdempotencyInFlight(Conflict):
    kind, title = "idempotency-in-flight", "A request with this key is still being processed"


class IdempotencyMismatch(ApiProblem):
    status, kind, title = 422, "idempotency-key-reused", "Idempotency key used with another body"


class PreconditionFailed(ApiProblem):
    status, kind, title = 412, "precondition-failed", "The resource has changed"


class PreconditionRequired(ApiProblem):
    status, kind, title = 428, "precondition-required", "If-Match is required"


class InvalidInput(ApiProblem):
    status, kind, title = 422, "validation", "The request is not valid"


class PayloadTooLarge(ApiProblem):
    status, kind, title = 413, "payload-too-large", "The request body is too large"


class StorageUnavailable(ApiProblem):
    status, kind, title = 503, "storage-unavailable", "The database cannot take writes"


def problem_response(problem: ApiProblem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(problem.body(instance), custom_encoder=WIRE_ENCODERS),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        loc = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
        msg = str(error.get("msg", "invalid"))
        errors.append({"loc": loc, "msg": msg, "type": str(error.get("type", "value_error"))})
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app can raise answer as problem+json."""

    def _allowed_methods(request: Request, first: str) -> str:
        # Starlette's 405 names only the first route whose path matched; a path served by
        # several routes (GET and POST /cases) must list them all (RFC 9110, section 15.5.6).
        methods = {m.strip() for m in first.split(",") if m.strip()}
        matching = [
            (template.count("{"), item)
            for template, item in app.openapi().get("paths", {}).items()
            if re.fullmatch(
                re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), request.url.path
            )
        ]
        if matching:  # the most specific template wins: /cases/claim-next over /cases/{case}
            fewest = min(params for params, _ in matching)
            methods = {m.upper() for params, item in matching if params == fewest for m in item}
        return ", ".join(sorted(methods))

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors[:5]
        )
        problem = InvalidInput(summary or "The request is not valid.", errors=errors)
        return problem_response(problem, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = ApiProblem(str(exc.detail), headers=dict(exc.headers or {}))
        body = problem.body(request.url.path)
        body["status"] = exc.status_code
        body["title"] = _TITLES.get(exc.status_code, "Error")
        body["type"] = PROBLEM_BASE + _KINDS.get(exc.status_code, "http-error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request, headers.get("Allow", ""))
        return JSONResponse(
            body, status_code=exc.status_code, media_type=PROBLEM_MEDIA_TYPE, headers=headers
        )

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (a NUL character, a number out of range) that got
        # past validation: the request was bad, and nothing was written.
        problem = InvalidInput(
            "A value in the request cannot be stored (out of range or invalid characters)."
        )
        return problem_response(problem, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette installs this on its outermost middleware: the response is still sent as
        # problem+json, and the exception is re-raised afterwards so the server logs it.
        return problem_response(
            InternalError("The server failed to answer this request; it has been logged."),
            request.url.path,
        )


_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    404: "No such resource",
    405: "Method not allowed",
    413: "The request body is too large",
}
_KINDS = {
    400: "bad-request",
    401: "unauthenticated",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
}


class InternalError(ApiProblem):
    """A bug in the server; never the answer to bad input (tests hunt for these)."""

    status, kind, title = 500, "internal-error", "Internal server error"


class MaterialsIncomplete(Conflict):
    """A decision needs materials the checklist does not have (issue 3)."""

    kind, title = "materials-incomplete", "Materials are missing, owed or defective"


class NoticeRepeats(Conflict):
    """A second supplement request would repeat a material already requested (一次性告知)."""

    kind, title = "notice-repeats-material", "Already requested in an earlier notice"


class ELicenceUnusable(Conflict):
    """An e-licence that is expired or revoked cannot stand in for paper."""

    kind, title = "e-licence-unusable", "The e-licence cannot be used"


class AlreadyRated(Conflict):
    kind, title = "already-rated", "This service has already been rated"


def _wire_datetime(value: datetime) -> str:
    """A datetime as the response models send it: UTC as `Z`, like pydantic does."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


WIRE_ENCODERS: dict[Any, Callable[[Any], Any]] = {datetime: _wire_datetime}
"""Encoders for bodies built from plain dicts (problems, `Outcome`s), so they match the bodies
FastAPI serializes through response models."""


class CaseMerged(Conflict):
    """The case was merged into another one: it takes no more decisions (issue 6)."""

    kind, title = "case-merged", "The case was merged into another case"


class MergeRefused(Conflict):
    """The two cases cannot be merged in their current state (issue 6)."""

    kind, title = "merge-refused", "The cases cannot be merged"


class ApplicantMismatch(Conflict):
    """The two cases' applicants have different ID numbers and the clerk has not confirmed it."""

    kind, title = "applicant-mismatch", "The cases have different applicants"


class WindowNotOpen(Conflict):
    """A window that is paused or closed calls no ticket (carries `window` and `state`)."""

    kind, title = "window-not-open", "The window is not open"


class TransferWindowNotOpen(Conflict):
    """A ticket is not sent to a paused or closed window, where nobody would call it (carries
    `window` and `state`)."""

    kind, title = "transfer-window-not-open", "The target window is not open"


class UnmergeRefused(Conflict):
    """The merge can no longer be undone (period over, decision since, already undone)."""

    kind, title = "unmerge-refused", "The merge cannot be undone"


class DocumentHashMismatch(ApiProblem):
    """The bytes uploaded are not the ones the SHA-256 in the path names (issue 20)."""

    status, kind, title = 422, "document-hash-mismatch", "The bytes do not match their SHA-256"


class DocumentEmpty(ApiProblem):
    status, kind, title = 422, "document-empty", "The document is empty"


class DocumentTypeUnsupported(ApiProblem):
    """Told from the bytes, never the name or the declared type."""

    status, kind, title = 415, "document-type-unsupported", "Not a kind of document taken"


class DocumentUnreadable(ApiProblem):
    status, kind, title = 422, "document-unreadable", "The document is broken"


class DocumentEncrypted(ApiProblem):
    status, kind, title = 422, "document-encrypted", "The PDF is encrypted"


class DocumentTooManyPixels(ApiProblem):
    """Pillow's limit against decompression bombs."""

    status, kind, title = 422, "document-too-many-pixels", "The image has too many pixels"


class DocumentTooManyPages(ApiProblem):
    status, kind, title = 422, "document-too-many-pages", "The document has too many pages"
