"""Provides citizen ratings (好差评): submission by terminals and the portal, the list, and the
follow-up responses of clerks and supervisors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Connection

from api_client.models import FollowUpResponseBody, Rating, RatingList, RatingSubmission
from backend.auth.sessions import Principal, require_roles
from backend.db.paging import encode_cursor
from backend.ratings.evaluations import (
    list_ratings,
    load_rating,
    rating_hall,
    respond,
    submit_rating,
)
from backend.routes.common import Idempotent, Staff, State
from backend.routes.idempotency import Outcome

router = APIRouter(prefix="/api/v1", tags=["ratings"])

RatingPad = Annotated[Principal, Depends(require_roles("terminal", "portal", "admin"))]
RatingId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/ratings",
    status_code=201,
    response_model=Rating,
    responses={403: {}, 404: {}, 409: {}, 422: {}},
    summary="A citizen's rating of a finished ticket or a decided case",
)
async def rate(body: RatingSubmission, principal: RatingPad, idem: Idempotent) -> Any:
    def handler(conn: Connection, now: Any) -> Outcome:
        return Outcome(201, submit_rating(conn, principal=principal, body=body, now=now))

    return await idem.run(handler)


@router.get("/ratings", response_model=RatingList, summary="Ratings, keyset paged")
async def ratings_list(
    principal: Staff,
    state: State,
    follow_up: Literal["open", "closed", "overdue"] | None = None,
    max_score: int | None = Query(default=None, ge=1, le=5),
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    now = state.clock.now()
    items = await state.db.read(
        lambda conn: list_ratings(
            conn,
            hall_id=principal.hall_id,
            follow_up=follow_up,
            max_score=max_score,
            cursor=cursor,
            limit=limit,
            now=now,
        )
    )
    next_cursor = encode_cursor(items[-1]["id"]) if len(items) == limit else None
    return {"items": items, "next_cursor": next_cursor}


@router.get("/ratings/{rating}", response_model=Rating, responses={403: {}, 404: {}})
async def rating_detail(rating: RatingId, principal: Staff, state: State) -> Any:
    now = state.clock.now()

    def query(conn: Connection) -> dict[str, Any]:
        principal.require_hall(rating_hall(conn, rating))
        return load_rating(conn, rating, now=now)

    return await state.db.read(query)


@router.post(
    "/ratings/{rating}/responses",
    status_code=201,
    response_model=Rating,
    responses={403: {}, 404: {}, 409: {}, 422: {}},
    summary="A clerk's or supervisor's response to a bad rating (a supervisor may close it)",
)
async def rating_response(
    rating: RatingId, body: FollowUpResponseBody, principal: Staff, idem: Idempotent
) -> Any:
    def handler(conn: Connection, now: Any) -> Outcome:
        result = respond(conn, rating_id=rating, principal=principal, body=body, now=now)
        return Outcome(201, result)

    return await idem.run(handler)
