"""Provides the client's exceptions: one hierarchy, mapped from the API's problem+json answers.

The UI catches these and nothing else: transport failures (httpx) and unreadable bodies
(pydantic) are turned into one of them too.

Our exception hierarchy:

* ApiError
  + Unauthenticated ............. 401: log in (again)
  | + TokenExpired
  | + TokenRevoked
  | + InvalidCredentials
  + AccountLocked ............... 423
  + Forbidden ................... 403
  + NotFound .................... 404
  + Conflict .................... 409, carries `.current` and `.allowed`
  | + InvalidTransition
  | + WindowTaken
  | + RecallTooSoon
  | + IdempotencyInFlight
  | + MaterialsIncomplete
  | + NoticeRepeatsMaterial
  | + ELicenceUnusable
  | + AlreadyRated
  | + WindowNotOpen
  | + TransferWindowNotOpen
  + PreconditionFailed .......... 412, carries `.current`
  + PreconditionRequired ........ 428
  + ValidationFailed ............ 422 and 400, carries `.field_errors`
  | + IdempotencyKeyReused
  + PayloadTooLarge ............. 413
  + RateLimited ................. 429, carries `.retry_after`
  + Unavailable ................. the server could not be reached or could not answer
    + NetworkError .............. connection refused, reset, DNS, TLS
    + RequestTimeout ............ connect/read/write/pool timeout
    + ServerError ............... 5xx
    + InvalidResponse ........... an answer the client cannot read
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from api_client.models.common import Problem

PROBLEM_BASE = "https://service-workbench.example/problems/"

__all__ = [
    "PROBLEM_BASE",
    "AccountLocked",
    "AlreadyRated",
    "ApiError",
    "Conflict",
    "ELicenceUnusable",
    "FieldMessage",
    "Forbidden",
    "IdempotencyInFlight",
    "IdempotencyKeyReused",
    "InvalidCredentials",
    "InvalidResponse",
    "InvalidTransition",
    "MaterialsIncomplete",
    "NetworkError",
    "NotFound",
    "NoticeRepeatsMaterial",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "RateLimited",
    "RecallTooSoon",
    "RequestTimeout",
    "ServerError",
    "TokenExpired",
    "TokenRevoked",
    "TransferWindowNotOpen",
    "Unauthenticated",
    "Unavailable",
    "ValidationFailed",
    "WindowNotOpen",
    "WindowTaken",
    "error_from_problem",
    "error_from_response",
    "error_from_transport",
]


@dataclass(frozen=True)
class FieldMessage:
    """One field-level complaint, ready to show next to the field."""

    field: str
    message: str
    type: str


class ApiError(Exception):
    """Base class: something the API refused, or the API could not be reached."""

    kind: ClassVar[str] = "error"

    def __init__(
        self, message: str, *, status: int | None = None, problem: Problem | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problem = problem

    @property
    def current(self) -> dict[str, Any] | None:
        """The server's current state of the resource, when the answer carried one."""
        return self.problem.current if self.problem is not None else None

    @property
    def allowed(self) -> list[str] | None:
        """What the resource's current state allows instead, when the answer said so."""
        return self.problem.allowed if self.problem is not None else None

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again later may succeed."""
        return False


class Unauthenticated(ApiError):
    kind = "unauthenticated"


class TokenExpired(Unauthenticated):
    kind = "token-expired"


class TokenRevoked(Unauthenticated):
    kind = "token-revoked"


class InvalidCredentials(Unauthenticated):
    kind = "invalid-credentials"


class AccountLocked(ApiError):
    kind = "account-locked"

    @property
    def locked_until(self) -> str | None:
        extra = self.problem.model_extra if self.problem is not None else None
        value = (extra or {}).get("locked_until")
        return str(value) if value is not None else None


class Forbidden(ApiError):
    kind = "forbidden"


class NotFound(ApiError):
    kind = "not-found"


class Conflict(ApiError):
    kind = "conflict"


class InvalidTransition(Conflict):
    kind = "invalid-transition"


class WindowTaken(Conflict):
    kind = "window-taken"


class RecallTooSoon(Conflict):
    kind = "recall-too-soon"

    @property
    def retry_after(self) -> float | None:
        return _retry_after(self.problem)


class IdempotencyInFlight(Conflict):
    kind = "idempotency-in-flight"

    @property
    def retryable(self) -> bool:
        return True


class MaterialsIncomplete(Conflict):
    kind = "materials-incomplete"


class NoticeRepeatsMaterial(Conflict):
    kind = "notice-repeats-material"


class ELicenceUnusable(Conflict):
    kind = "e-licence-unusable"


class AlreadyRated(Conflict):
    kind = "already-rated"


class WindowNotOpen(Conflict):
    kind = "window-not-open"


class TransferWindowNotOpen(Conflict):
    kind = "transfer-window-not-open"


class PreconditionFailed(ApiError):
    kind = "precondition-failed"


class PreconditionRequired(ApiError):
    kind = "precondition-required"


class ValidationFailed(ApiError):
    kind = "validation"

    @property
    def field_errors(self) -> list[FieldMessage]:
        """Each complaint with a dotted field name (`body.window`, `header.If-Match`)."""
        if self.problem is None or not self.problem.errors:
            return []
        return [
            FieldMessage(".".join(str(p) for p in e.loc), e.msg, e.type)
            for e in self.problem.errors
        ]


class IdempotencyKeyReused(ValidationFailed):
    kind = "idempotency-key-reused"


class PayloadTooLarge(ApiError):
    kind = "payload-too-large"


class RateLimited(ApiError):
    kind = "rate-limited"

    @property
    def retryable(self) -> bool:
        return True

    @property
    def retry_after(self) -> float | None:
        return _retry_after(self.problem)


class Unavailable(ApiError):
    kind = "unavailable"

    @property
    def retryable(self) -> bool:
        return True


class NetworkError(Unavailable):
    kind = "network"


class RequestTimeout(Unavailable):
    kind = "timeout"


class ServerError(Unavailable):
    kind = "server-error"


class InvalidResponse(Unavailable):
    kind = "invalid-response"


_BY_KIND: dict[str, type[ApiError]] = {
    cls.kind: cls
    for cls in (
        Unauthenticated,
        TokenExpired,
        TokenRevoked,
        InvalidCredentials,
        AccountLocked,
        Forbidden,
        NotFound,
        Conflict,
        InvalidTransition,
        WindowTaken,
        RecallTooSoon,
        IdempotencyInFlight,
        MaterialsIncomplete,
        NoticeRepeatsMaterial,
        ELicenceUnusable,
        AlreadyRated,
        WindowNotOpen,
        TransferWindowNotOpen,
        PreconditionFailed,
        PreconditionRequired,
        ValidationFailed,
        IdempotencyKeyReused,
        PayloadTooLarge,
        RateLimited,
        Unavailable,
    )
}
_BY_KIND["storage-unavailable"] = ServerError
_BY_KIND["internal-error"] = ServerError
_BY_KIND["idempotency-key-missing"] = ValidationFailed
_BY_KIND["idempotency-key-invalid"] = ValidationFailed
_BY_KIND["bad-request"] = ValidationFailed

_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    422: ValidationFailed,
    423: AccountLocked,
    428: PreconditionRequired,
    429: RateLimited,
}


def _retry_after(problem: Problem | None) -> float | None:
    extra = problem.model_extra if problem is not None else None
    value = (extra or {}).get("retry_after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _class_for(status: int, kind: str | None) -> type[ApiError]:
    by_status = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    by_kind = _BY_KIND.get(kind or "")
    if by_kind is not None and issubclass(by_kind, by_status):
        return by_kind
    if by_kind is not None and status >= 500 and issubclass(by_kind, Unavailable):
        return by_kind
    return by_status


def error_from_problem(problem: Problem) -> ApiError:
    """The typed exception for a problem document (also used for stored outbox problems)."""
    kind = problem.type.removeprefix(PROBLEM_BASE) if problem.type.startswith(PROBLEM_BASE) else ""
    cls = _class_for(problem.status, kind)
    return cls(problem.detail or problem.title, status=problem.status, problem=problem)


def _synthetic_problem(response: httpx.Response) -> Problem:
    reason = response.reason_phrase or "Error"
    text = response.text[:200].strip() if response.content else ""
    return Problem(
        type="about:blank",
        title=reason,
        status=response.status_code,
        detail=f"{response.status_code} {reason}" + (f": {text}" if text else ""),
    )


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed exception for an error answer (problem+json or anything else)."""
    try:
        problem = Problem.model_validate_json(response.content)
    except (ValidationError, ValueError):
        problem = _synthetic_problem(response)
    if problem.status != response.status_code:
        problem = problem.model_copy(update={"status": response.status_code})
    error = error_from_problem(problem)
    if isinstance(error, RateLimited | RecallTooSoon) and error.retry_after is None:
        header = response.headers.get("Retry-After", "")
        if header.isdigit():
            extra = dict(problem.model_extra or {})
            extra["retry_after"] = int(header)
            error.problem = Problem.model_validate({**problem.model_dump(), **extra})
    return error


def error_from_transport(exc: httpx.TransportError, url: str = "") -> Unavailable:
    """The typed exception for a failure to reach the server or read its answer."""
    where = f" ({url})" if url else ""
    if isinstance(exc, httpx.TimeoutException):
        name = type(exc).__name__.replace("Timeout", " timeout").lower()
        return RequestTimeout(f"The server did not answer in time: {name}{where}.")
    detail = str(exc) or type(exc).__name__
    return NetworkError(f"The server cannot be reached{where}: {detail}")
