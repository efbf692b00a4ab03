"""Provides helpers the routers share: If-Match parsing and typed dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from backend.auth.sessions import Principal, current_principal, require_roles
from backend.problems import InvalidInput
from backend.routes.idempotency import IdempotentRequest, idempotent_request
from backend.runtime.state import AppState, app_state

State = Annotated[AppState, Depends(app_state)]
AnyUser = Annotated[Principal, Depends(current_principal)]
Staff = Annotated[Principal, Depends(require_roles("clerk", "supervisor", "admin"))]
Clerk = Annotated[Principal, Depends(require_roles("clerk"))]
Supervisor = Annotated[Principal, Depends(require_roles("supervisor", "admin"))]
Terminal = Annotated[Principal, Depends(require_roles("terminal", "admin"))]
Portal = Annotated[Principal, Depends(require_roles("portal", "admin"))]
Idempotent = Annotated[IdempotentRequest, Depends(idempotent_request)]


async def clerk_change(request: Request) -> IdempotentRequest:
    """`Clerk` and `Idempotent` in one dependency, for the claim routes (the busiest): FastAPI
    charges tens of microseconds for each sub-dependency it solves."""
    principal = await current_principal(request)
    principal.require("clerk")
    return await idempotent_request(request, principal)


ClerkChange = Annotated[IdempotentRequest, Depends(clerk_change)]

IF_MATCH_DOC = 'The version the change is based on, as an ETag (`"3"`); stale gets 412.'


def is_small_number(text: str) -> bool:
    """ASCII digits only (`"²".isdigit()` is true), and few enough to be a database integer."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def parse_if_match(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` → 3; absent → None; anything else is refused."""
    if value is None or value.strip() in ("", "*"):
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not is_small_number(text):
        raise InvalidInput(
            f'If-Match: {value!r} is not a version this API gave out (expected e.g. "3").',
            errors=[
                {"loc": ["header", "If-Match"], "msg": "invalid version", "type": "value_error"}
            ],
        )
    return int(text)


IfMatch = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_DOC)]
