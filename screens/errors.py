"""Provides `describe_error`: a failed call turned into a sentence a clerk can act on, in the
current language.

A problem answered by the server is told by its `type` through the catalogue's `[problem]`
section (`workbench.problem_text`), never in the server's English `detail` (used only for a type
the catalogue does not know); field errors name the fields. The client's errors are imported on
first use: this module is on the login screen's import path, which must not load httpx and the
wire models before the first paint.
"""

from __future__ import annotations

from workbench.i18n import t

__all__ = ["describe_error"]


def describe_error(error: BaseException | None) -> str:
    """What went wrong and what to do about it, in the current language."""
    from api_client.errors import ApiError, RecallTooSoon, ValidationFailed
    from workbench.problem_text import problem_text

    if isinstance(error, RecallTooSoon):
        return t("error.recall_too_soon", seconds=int(error.retry_after or 0))
    if isinstance(error, ValidationFailed) and error.field_errors:
        fields = "; ".join(f"{f.field}: {f.message}" for f in error.field_errors[:3])
        return t("error.validation", detail=fields)
    if isinstance(error, ApiError):
        return problem_text(error)
    if error is None:
        return t("error.unknown")
    return t("error.internal", detail=f"{type(error).__name__}: {error}")
