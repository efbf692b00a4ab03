"""Provides citizen ratings (好差评) and the follow-up a bad one opens.

A rating (1 非常不满意 … 5 非常满意) is given once per finished ticket or decided case, by the
counter's rating pad (terminal role) or the online portal. A score of 1 or 2 opens a follow-up
(整改) due within the hall's `rating_follow_up_working_days` (default 15) working days after the
day of the rating. Clerks and supervisors record responses; a supervisor closes the follow-up,
and only once a clerk has responded. Every step appends an event for the supervisor board.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from api_client.models import FollowUpResponseBody, RatingSubmission
from backend.auth.sessions import Principal
from backend.cases.time_limits import hall_day_of, working_calendar
from backend.db.engine import inserted_id
from backend.db.event_log import append_event
from backend.db.paging import decode_cursor
from backend.db.schema import (
    case_decisions,
    cases,
    rating_responses,
    ratings,
    tickets,
    users,
    windows,
)
from backend.hall.catalogue import hall_rules
from backend.problems import AlreadyRated, Conflict, Forbidden, NotFound

SCORE_LABELS = {
    1: ("非常不满意", "very dissatisfied"),
    2: ("不满意", "dissatisfied"),
    3: ("基本满意", "fairly satisfied"),
    4: ("满意", "satisfied"),
    5: ("非常满意", "very satisfied"),
}
FOLLOW_UP_BELOW = 3


def _ticket_subject(conn: Connection, hall_id: int, ticket_id: int) -> tuple[str, str | None]:
    row = conn.execute(
        select(tickets.c.hall_id, tickets.c.number, tickets.c.status, users.c.username)
        .outerjoin(windows, windows.c.id == tickets.c.window_id)
        .outerjoin(users, users.c.id == windows.c.clerk_id)
        .where(tickets.c.id == ticket_id)
    ).first()
    if row is None or row.hall_id != hall_id:
        raise NotFound(f"There is no ticket {ticket_id} in this hall.")
    if row.status != "done":
        raise Conflict(
            f"Ticket {row.number} is {row.status}: only a finished ticket can be rated.",
            current={"status": row.status},
        )
    return row.number, row.username


def _case_subject(conn: Connection, hall_id: int, case_id: int) -> tuple[str, str | None]:
    row = conn.execute(
        select(cases.c.hall_id, cases.c.number, cases.c.status, users.c.username)
        .outerjoin(users, users.c.id == cases.c.assignee_id)
        .where(cases.c.id == case_id)
    ).first()
    if row is None or row.hall_id != hall_id:
        raise NotFound(f"There is no case {case_id} in this hall.")
    last_actor = conn.execute(
        select(case_decisions.c.actor)
        .where(case_decisions.c.case_id == case_id)
        .order_by(case_decisions.c.id.desc())
        .limit(1)
    ).scalar()
    if last_actor is None:
        raise Conflict(
            f"Case {row.number} has no decision yet: it can be rated once it is decided.",
            current={"status": row.status},
        )
    return row.number, row.username or last_actor


def submit_rating(
    conn: Connection, *, principal: Principal, body: RatingSubmission, now: datetime
) -> dict[str, Any]:
    hall_id = principal.hall_id
    subject_type = "ticket" if body.ticket is not None else "case"
    subject_id = int(body.ticket if body.ticket is not None else body.case or 0)
    if subject_type == "ticket":
        label, clerk = _ticket_subject(conn, hall_id, subject_id)
    else:
        label, clerk = _case_subject(conn, hall_id, subject_id)
    _refuse_second(conn, subject_type, subject_id, label)
    due = _follow_up_due(conn, hall_id, now) if body.score < FOLLOW_UP_BELOW else None
    rating_id = inserted_id(
        conn.execute(
            insert(ratings).values(
                hall_id=hall_id,
                subject_type=subject_type,
                subject_id=subject_id,
                subject_label=label,
                score=body.score,
                categories=list(body.categories),
                comment=body.comment,
                channel=principal.role,
                clerk=clerk,
                submitted_at=now,
                follow_up_due_on=due,
                follow_up_state="open" if due else None,
            )
        )
    )
    payload = {
        "score": body.score,
        "subject_type": subject_type,
        "subject": label,
        "categories": list(body.categories),
        "clerk": clerk,
        "follow_up_due_on": due.isoformat() if due else None,
        "has_comment": bool(body.comment),
    }
    _event(conn, hall_id, "rating.submitted", int(rating_id), principal, now, payload)
    return load_rating(conn, int(rating_id), now=now)


def _refuse_second(conn: Connection, subject_type: str, subject_id: int, label: str) -> None:
    existing = conn.execute(
        select(ratings.c.id).where(
            ratings.c.subject_type == subject_type, ratings.c.subject_id == subject_id
        )
    ).scalar()
    if existing is not None:
        raise AlreadyRated(f"{subject_type} {label} has already been rated.", rating=existing)


def _follow_up_due(conn: Connection, hall_id: int, now: datetime) -> date:
    days = int(hall_rules(conn, hall_id).get("rating_follow_up_working_days", 15))
    today = hall_day_of(conn, hall_id, now).today
    return working_calendar().add_working_days(today, days)


def _event(
    conn: Connection,
    hall_id: int,
    kind: str,
    rating_id: int,
    principal: Principal,
    now: datetime,
    payload: dict[str, Any],
) -> None:
    append_event(
        conn,
        hall_id=hall_id,
        type=kind,
        subject_type="rating",
        subject_id=rating_id,
        actor=principal.actor,
        at=now,
        payload=payload,
    )


def respond(
    conn: Connection,
    *,
    rating_id: int,
    principal: Principal,
    body: FollowUpResponseBody,
    now: datetime,
) -> dict[str, Any]:
    row = _rating_row(conn, rating_id)
    principal.require_hall(row.hall_id)
    if row.follow_up_state is None:
        raise Conflict(f"Rating {rating_id} (score {row.score}) has no follow-up to respond to.")
    if row.follow_up_state == "closed":
        raise Conflict(f"The follow-up of rating {rating_id} is already closed.")
    role = "clerk" if principal.role == "clerk" else "supervisor"
    if body.close and role != "supervisor":
        raise Forbidden("Only a supervisor closes a follow-up.")
    if body.close and not _has_clerk_response(conn, rating_id):
        raise Conflict("The follow-up needs the clerk's response before a supervisor can close it.")
    conn.execute(
        insert(rating_responses).values(
            rating_id=rating_id, role=role, author=principal.username, text=body.text, at=now
        )
    )
    kind = "rating.responded"
    if body.close:
        kind = "rating.follow_up_closed"
        conn.execute(
            update(ratings)
            .where(ratings.c.id == rating_id)
            .values(
                follow_up_state="closed",
                follow_up_closed_at=now,
                follow_up_closed_by=principal.username,
            )
        )
    payload = {"role": role, "score": row.score, "subject": row.subject_label}
    _event(conn, row.hall_id, kind, rating_id, principal, now, payload)
    return load_rating(conn, rating_id, now=now)


def _has_clerk_response(conn: Connection, rating_id: int) -> bool:
    count = conn.execute(
        select(func.count())
        .select_from(rating_responses)
        .where(rating_responses.c.rating_id == rating_id, rating_responses.c.role == "clerk")
    ).scalar_one()
    return int(count) > 0


def _rating_row(conn: Connection, rating_id: int) -> Any:
    row = conn.execute(select(ratings).where(ratings.c.id == rating_id)).first()
    if row is None:
        raise NotFound(f"There is no rating {rating_id}.")
    return row


def rating_hall(conn: Connection, rating_id: int) -> int:
    return int(_rating_row(conn, rating_id).hall_id)


def load_rating(conn: Connection, rating_id: int, *, now: datetime) -> dict[str, Any]:
    row = _rating_row(conn, rating_id)
    today = hall_day_of(conn, row.hall_id, now).today
    responses = _responses(conn, [rating_id])
    return rating_to_wire(row, responses.get(rating_id, []), today)


def _responses(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return found
    rows = conn.execute(
        select(rating_responses)
        .where(rating_responses.c.rating_id.in_(ids))
        .order_by(rating_responses.c.id)
    )
    for r in rows:
        found.setdefault(r.rating_id, []).append(
            {"id": r.id, "role": r.role, "author": r.author, "text": r.text, "at": r.at}
        )
    return found


def rating_to_wire(row: Any, responses: list[dict[str, Any]], today: date) -> dict[str, Any]:
    label_zh, label_en = SCORE_LABELS[row.score]
    follow_up = None
    if row.follow_up_state is not None:
        follow_up = {
            "state": row.follow_up_state,
            "due_on": row.follow_up_due_on,
            "overdue": row.follow_up_state == "open" and today > row.follow_up_due_on,
            "closed_at": row.follow_up_closed_at,
            "closed_by": row.follow_up_closed_by,
            "responses": responses,
        }
    return {
        "id": row.id,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "subject_label": row.subject_label,
        "score": row.score,
        "score_label": label_zh,
        "score_label_en": label_en,
        "categories": list(row.categories or []),
        "comment": row.comment,
        "channel": row.channel,
        "clerk": row.clerk,
        "submitted_at": row.submitted_at,
        "follow_up": follow_up,
    }


def list_ratings(
    conn: Connection,
    *,
    hall_id: int,
    follow_up: str | None,
    max_score: int | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> list[dict[str, Any]]:
    today = hall_day_of(conn, hall_id, now).today
    where = [ratings.c.hall_id == hall_id, ratings.c.id > decode_cursor(cursor)]
    if follow_up == "overdue":
        where += [ratings.c.follow_up_state == "open", ratings.c.follow_up_due_on < today]
    elif follow_up:
        where.append(ratings.c.follow_up_state == follow_up)
    if max_score is not None:
        where.append(ratings.c.score <= max_score)
    rows = conn.execute(select(ratings).where(*where).order_by(ratings.c.id).limit(limit)).all()
    responses = _responses(conn, [r.id for r in rows])
    return [rating_to_wire(r, responses.get(r.id, []), today) for r in rows]
