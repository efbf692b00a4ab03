"""Provides `shadow_guards`: 405 for a fixed path's missing methods that a parameterised sibling
would otherwise take.

`POST /tickets/2/merge-candidates` matched `POST /tickets/{ticket}/{action}` (and was refused as
an unknown action, or for its missing Idempotency-Key), `GET /cases/claim-next` matched
`GET /cases/{case}` (a non-numeric id); the path is another route's, which has no such method:
the answer is 405 with Allow (RFC 9110, 15.5.6). A guard route per such fixed path and method,
ahead of the others, says so before any dependency runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

_PARAMETER = re.compile(r"\{[^}]+\}")


def _shape(template: str) -> re.Pattern[str]:
    """What paths a template takes (a parameter: one segment)."""
    parts = _PARAMETER.split(template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + "$")


async def _not_allowed(request: Request) -> None:
    raise HTTPException(405)  # the problem handler names every method the path has in Allow


def shadow_guards(paths: Mapping[str, Mapping[str, Any]]) -> list[Route]:
    """A 405 route for each method of a parameterised path that would take a fixed sibling's
    path which has no such method; `paths` as the OpenAPI document has them."""
    served = {path: {method.upper() for method in item} for path, item in paths.items()}
    guards = []
    for fixed, methods in served.items():
        wider = {
            method
            for template, others in served.items()
            if template != fixed
            and template.count("{") > fixed.count("{")
            and _shape(template).match(fixed)
            for method in others
        }
        missing = wider - methods
        if missing:
            guards.append(Route(fixed, _not_allowed, methods=sorted(missing)))
    return guards
