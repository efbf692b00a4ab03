"""Provides the one shape of a versioned write: parse If-Match, check the hall, run the change
under the request's idempotency key, and answer with the new version as the ETag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy import Connection
from starlette.responses import Response

from backend.auth.sessions import Principal
from backend.routes.common import Idempotent, IfMatch, parse_if_match
from backend.routes.idempotency import IdempotentRequest, Outcome

T = TypeVar("T")


def etag(version: int) -> dict[str, str]:
    """The ETag header naming a version (`"3"`), the form If-Match sends back."""
    return {"ETag": f'"{version}"'}


def _as_is(result: Any) -> Any:
    return result


@dataclass
class VersionedChange:
    """A versioned write's If-Match (parsed when the route runs) and its idempotent request."""

    idem: IdempotentRequest
    if_match: str | None

    async def run(
        self,
        change: Callable[[Connection, datetime, int | None], T],
        *,
        version_of: Callable[[T], int],
        status: int = 200,
        principal: Principal | None = None,
        hall_of: Callable[[Connection], int] | None = None,
        body_of: Callable[[T], Any] = _as_is,
        headers_of: Callable[[T], dict[str, str]] | None = None,
    ) -> Response:
        """Run `change(conn, now, version)` once for the idempotency key; `hall_of` names the
        hall the principal must belong to (checked in the change's transaction, first)."""
        version = parse_if_match(self.if_match)

        def handler(conn: Connection, now: datetime) -> Outcome:
            if principal is not None and hall_of is not None:
                principal.require_hall(hall_of(conn))
            result = change(conn, now, version)
            headers = etag(version_of(result))
            if headers_of is not None:
                headers.update(headers_of(result))
            return Outcome(status, body_of(result), headers)

        return await self.idem.run(handler)


async def versioned_change(idem: Idempotent, if_match: IfMatch = None) -> VersionedChange:
    return VersionedChange(idem, if_match)


VersionedWrite = Annotated[VersionedChange, Depends(versioned_change)]
