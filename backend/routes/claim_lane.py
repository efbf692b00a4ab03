"""Provides `claim_routes`: call next and claim next case, served as plain Starlette routes.

These two are the busiest requests of a city: every clerk makes one every few seconds. FastAPI
documents them (their `APIRoute`s in `tickets.py` and `cases.py`, which stay in the OpenAPI
document), but serving them through FastAPI's route matching, dependency solving and exit
stacks cost about a tenth of an API process's CPU per claim (`bench/claims.py`). The routes
here come first in the app's router and run the same endpoint functions with the same
dependency (`clerk_change`), so the behaviour is the same; errors reach the same problem+json
handlers, and the metrics see the same route templates."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from backend.routes import cases, tickets
from backend.routes.common import clerk_change

CALL_NEXT = "/api/v1/windows/{window}/call-next"
CLAIM_NEXT_CASE = "/api/v1/cases/claim-next"


class _ClaimRoute(Route):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # FastAPI's router names the route in the scope for its own routes only; the metrics
        # and the access log read the route's template from there
        scope["route"] = self
        await super().handle(scope, receive, send)


async def _call_next_ticket(request: Request) -> Response:
    change = await clerk_change(request)
    response: Response = await tickets.call_next_ticket(request.path_params["window"], change)
    return response


async def _claim_next_case(request: Request) -> Response:
    response: Response = await cases.claim_next(await clerk_change(request))
    return response


def claim_routes() -> list[Route]:
    return [
        _ClaimRoute(CALL_NEXT, _call_next_ticket, methods=["POST"]),
        _ClaimRoute(CLAIM_NEXT_CASE, _claim_next_case, methods=["POST"]),
    ]
