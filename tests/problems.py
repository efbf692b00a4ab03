"""Provides the one assertion the API tests share for RFC 9457 answers: `problem(response,
status, kind)` checks the status, the media type and the document's members and returns the
document; `problem_kind` names the type of a problem answer."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEMS = "https://service-workbench.example/problems/"
"""Every problem `type` starts with this; the rest is the kind (`window-paused`, ...)."""


def problem(
    response: httpx.Response, status: int | tuple[int, ...], kind: str | None = None
) -> dict[str, Any]:
    """Assert `response` is a problem document of `status` (one of them, given several) and of
    `kind` when given; return the document."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text)
    media_type = response.headers.get("content-type", "")
    assert media_type.startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("type"), str) and body["type"].startswith(PROBLEMS), body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert body.get("status") == response.status_code, body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if kind:
        assert body["type"] == PROBLEMS + kind, body
    return body


def problem_kind(response: httpx.Response) -> str:
    """The kind of a problem answer (its `type` less the common prefix)."""
    media_type = response.headers.get("content-type", "")
    assert media_type.startswith("application/problem+json"), response.text
    return str(response.json()["type"]).removeprefix(PROBLEMS)
