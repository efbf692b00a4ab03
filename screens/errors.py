"""Provides `describe_error`: a failed call turned into a sentence a clerk can act on.

The client's errors are imported on first use: this module is on the login screen's import
path, which must not load httpx and the wire models before the first paint.
"""

from __future__ import annotations

from workbench.i18n import t

__all__ = ["describe_error"]


def describe_error(error: BaseException | None) -> str:
    """What went wrong and what to do about it, in the current language."""
    from api_client.errors import (
        AccountLocked,
        ApiError,
        Conflict,
        Forbidden,
        InvalidCredentials,
        InvalidTransition,
        NotFound,
        PreconditionFailed,
        RateLimited,
        RecallTooSoon,
        RequestTimeout,
        Unauthenticated,
        Unavailable,
        ValidationFailed,
        WindowTaken,
    )

    if isinstance(error, RecallTooSoon):
        seconds = int(error.retry_after or 0)
        return t("error.recall_too_soon", seconds=seconds)
    if isinstance(error, AccountLocked):
        return t("error.locked", until=error.locked_until or "?")
    if isinstance(error, InvalidCredentials):
        return t("error.credentials")
    if isinstance(error, Unauthenticated):
        return t("error.unauthenticated")
    if isinstance(error, WindowTaken):
        return t("error.window_taken")
    if isinstance(error, InvalidTransition):
        return t("error.invalid_transition", detail=error.message)
    if isinstance(error, PreconditionFailed):
        return t("error.stale")
    if isinstance(error, Conflict):
        return t("error.conflict", detail=error.message)
    if isinstance(error, Forbidden):
        return t("error.forbidden", detail=error.message)
    if isinstance(error, NotFound):
        return t("error.not_found", detail=error.message)
    if isinstance(error, ValidationFailed):
        fields = "; ".join(f"{f.field}: {f.message}" for f in error.field_errors[:3])
        return t("error.validation", detail=fields or error.message)
    if isinstance(error, RateLimited):
        return t("error.rate_limited")
    if isinstance(error, RequestTimeout):
        return t("error.timeout")
    if isinstance(error, Unavailable):
        return t("error.unavailable")
    if isinstance(error, ApiError):
        return t("error.generic", detail=error.message)
    if error is None:
        return t("error.unknown")
    return t("error.internal", detail=f"{type(error).__name__}: {error}")
