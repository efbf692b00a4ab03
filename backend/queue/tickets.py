"""Provides the hall queue: issuing tickets, calling the next one, and every ticket transition.

Ticket states: waiting → called → serving → done; called → no_show (→ waiting again when a
supervisor reactivates it); called/serving → parked → serving; called/serving/parked/waiting →
waiting elsewhere (transfer). Every function runs inside the caller's write transaction and
appends its event there.

Which ticket `call_next` picks for a window, among today's waiting tickets of the service items
the window serves (or transferred to that window):
1. an appointment that is due (appointment time within the hall's grace minutes), earliest first;
2. otherwise, when priority tickets wait, one of them (highest weight, then oldest) is called
   first and then at most N normal tickets before the next priority one (N is the hall's
   `priority_interleave`), so neither class starves;
3. otherwise, the oldest normal ticket (arrival order).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    exists,
    func,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from api_client.identity import mask_resident_id, parse_resident_id
from backend.db.engine import inserted_id
from backend.db.event_log import Actor, append_event
from backend.db.prepared import Prepared
from backend.db.schema import (
    applicants,
    priority_classes,
    service_items,
    ticket_counters,
    tickets,
    window_items,
    windows,
)
from backend.hall.catalogue import (
    hall_rules,
    priority_class_by_code,
    service_item_by_code,
    window_by_code,
    window_serves,
)
from backend.hall.working_calendar import local_day
from backend.problems import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    RecallTooSoon,
)

ACTIVE = ("called", "serving", "parked")

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "call": (("waiting",), "called"),
    "recall": (("called",), "called"),
    "no-show": (("called",), "no_show"),
    "reactivate": (("no_show",), "waiting"),
    "park": (("called", "serving"), "parked"),
    "resume": (("parked",), "serving"),
    "transfer": (("waiting", "called", "serving", "parked"), "waiting"),
    "start": (("called",), "serving"),
    "finish": (("serving",), "done"),
}


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def _counter_upsert(dialect_module: Any) -> Any:
    return (
        dialect_module.insert(ticket_counters)
        .values(service_item_id=bindparam("item_id"), day=bindparam("day"), last_seq=1)
        .on_conflict_do_update(
            index_elements=["service_item_id", "day"],
            set_={"last_seq": ticket_counters.c.last_seq + 1},
        )
        .returning(ticket_counters.c.last_seq)
    )


_COUNTER_UPSERT = {"postgresql": _counter_upsert(postgresql), "sqlite": _counter_upsert(sqlite)}


def _next_sequence(conn: Connection, service_item_id: int, day: Any) -> int:
    statement = _COUNTER_UPSERT[conn.dialect.name]
    return int(conn.execute(statement, {"item_id": service_item_id, "day": day}).scalar_one())


def _archive_earlier_days(conn: Connection, hall_id: int, day: Any) -> None:
    conn.execute(
        update(tickets)
        .where(tickets.c.hall_id == hall_id, tickets.c.day < day, tickets.c.archived.is_(False))
        .values(archived=True)
    )


def _ticket_number(prefix: str, seq: int) -> str:
    return f"{prefix}{seq:03d}"


_TICKET_INSERT = tickets.insert()


def issue_ticket(
    conn: Connection,
    *,
    hall_id: int,
    service_item: str,
    priority_class: str | None,
    applicant_id_number: str | None,
    appointment_at: datetime | None,
    now: datetime,
    actor: Actor,
    applicant_name: str | None = None,
    status: str = "waiting",
    window_id: int | None = None,
) -> dict[str, Any]:
    rules = hall_rules(conn, hall_id)
    item = service_item_by_code(conn, hall_id, service_item, field="service_item")
    weight, class_id = 0, None
    if priority_class:
        pc = priority_class_by_code(conn, hall_id, priority_class)
        weight, class_id = (0 if appointment_at else pc.weight), pc.id
    day = local_day(now, rules["timezone"])
    seq = _next_sequence(conn, item.id, day)
    if seq == 1:
        _archive_earlier_days(conn, hall_id, day)
    applicant_id = _applicant_id(conn, applicant_id_number, applicant_name)
    walk_in = status == "serving"
    row = {
        "hall_id": hall_id,
        "day": day,
        "number": _ticket_number(item.ticket_prefix, seq),
        "service_item_id": item.id,
        "priority_class_id": class_id,
        "priority_weight": weight,
        "applicant_id": applicant_id,
        "appointment_at": appointment_at,
        "status": status,
        "window_id": window_id,
        "walk_in": walk_in,
        "issued_at": now,
        "queued_at": now,
        "called_at": now if walk_in else None,
        "serving_started_at": now if walk_in else None,
    }
    ticket_id = inserted_id(conn.execute(_TICKET_INSERT, row))
    ticket = load_ticket(conn, int(ticket_id))
    append_event(
        conn,
        hall_id=hall_id,
        type="ticket.walk_in" if walk_in else "ticket.issued",
        subject_type="ticket",
        subject_id=ticket_id,
        actor=actor,
        at=now,
        payload=_event_payload(ticket),
    )
    if not walk_in:
        ticket["waiting_ahead"] = _waiting_ahead(conn, hall_id, item.id, day, int(ticket_id))
    return ticket


def _applicant_id(conn: Connection, id_number: str | None, name: str | None) -> int | None:
    """The registered applicant with this ID number; registered now when the card gave a name."""
    if id_number is None:
        return None
    found = conn.execute(
        select(applicants.c.id).where(applicants.c.id_number == id_number)
    ).scalar()
    if found is not None or name is None:
        return found
    info = parse_resident_id(id_number)
    return inserted_id(
        conn.execute(
            applicants.insert().values(
                kind="person",
                id_number=id_number,
                name=name,
                birth_date=info.birth_date,
                sex=info.sex,
                details={},
            )
        )
    )


_WAITING_AHEAD = Prepared(
    select(func.count().label("ahead"))
    .select_from(tickets)
    .where(
        tickets.c.hall_id == bindparam("hall_id"),
        tickets.c.status == "waiting",
        tickets.c.day == bindparam("day"),
        tickets.c.service_item_id == bindparam("item_id"),
        tickets.c.id < bindparam("ticket_id"),
    )
)


def _waiting_ahead(conn: Connection, hall_id: int, item_id: int, day: Any, ticket_id: int) -> int:
    params = {"hall_id": hall_id, "item_id": item_id, "day": day, "ticket_id": ticket_id}
    return int(_WAITING_AHEAD.first(conn, params).ahead)


def _event_payload(ticket: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": ticket["number"],
        "status": ticket["status"],
        "service_item": ticket["service_item"],
        "window": ticket["window"],
        "target_window": ticket["target_window"],
        "priority_class": ticket["priority_class"],
        "version": ticket["version"],
    }


def _ticket_select(source: Any = tickets, start: Any = None, *leading: Any) -> Any:
    """A ticket with the codes and applicant it is shown with; `source` is the tickets table or
    a CTE with its columns (the claim's UPDATE ... RETURNING), `start` what the joins hang on."""
    holding = windows.alias("holding")
    target = windows.alias("target")
    return select(
        *leading,
        source,
        service_items.c.code.label("item_code"),
        priority_classes.c.code.label("class_code"),
        holding.c.code.label("window_code"),
        target.c.code.label("target_code"),
        applicants.c.name.label("applicant_name"),
        applicants.c.id_number.label("applicant_id_number"),
    ).select_from(
        (source if start is None else start)
        .outerjoin(service_items, service_items.c.id == source.c.service_item_id)
        .outerjoin(priority_classes, priority_classes.c.id == source.c.priority_class_id)
        .outerjoin(holding, holding.c.id == source.c.window_id)
        .outerjoin(target, target.c.id == source.c.target_window_id)
        .outerjoin(applicants, applicants.c.id == source.c.applicant_id)
    )


def ticket_to_wire(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "day": row.day,
        "status": row.status,
        "service_item": row.item_code,
        "priority_class": row.class_code,
        "priority_weight": row.priority_weight,
        "appointment_at": row.appointment_at,
        "window": row.window_code,
        "target_window": row.target_code,
        "walk_in": row.walk_in,
        "issued_at": row.issued_at,
        "called_at": row.called_at,
        "recalled_at": row.recalled_at,
        "recall_count": row.recall_count,
        "serving_started_at": row.serving_started_at,
        "finished_at": row.finished_at,
        "outcome": row.outcome,
        "transfer_count": row.transfer_count,
        "applicant": (
            {
                "name": row.applicant_name,
                "id_number_masked": mask_resident_id(row.applicant_id_number),
            }
            if row.applicant_name is not None
            else None
        ),
        "waiting_ahead": None,
        "version": row.version,
    }


_TICKET_BY_ID = Prepared(_ticket_select().where(tickets.c.id == bindparam("ticket_id")))


def load_ticket(conn: Connection, ticket_id: int) -> dict[str, Any]:
    row = _TICKET_BY_ID.first(conn, {"ticket_id": ticket_id})
    if row is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    return ticket_to_wire(row)


def _candidates() -> ColumnElement[bool]:
    served = select(window_items.c.service_item_id).where(
        window_items.c.window_id == bindparam("window_id")
    )
    return and_(
        tickets.c.hall_id == bindparam("hall_id"),
        tickets.c.status == "waiting",
        tickets.c.day == bindparam("day"),
        or_(
            tickets.c.target_window_id == bindparam("window_id"),
            and_(tickets.c.target_window_id.is_(None), tickets.c.service_item_id.in_(served)),
        ),
    )


def _first_candidate(where: ColumnElement[bool], *order: Any) -> Prepared:
    return Prepared(
        select(tickets.c.id, tickets.c.priority_weight, tickets.c.appointment_at)
        .where(_candidates(), where)
        .order_by(*order, tickets.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL; SQLite has BEGIN IMMEDIATE
    )


# Appointment tickets are stored with weight 0: before they are due they wait like anyone else.
_DUE_APPOINTMENT = _first_candidate(
    and_(
        tickets.c.appointment_at.is_not(None),
        tickets.c.appointment_at <= bindparam("due_before"),
    ),
    tickets.c.appointment_at,
)
_FIRST_PRIORITY = _first_candidate(
    tickets.c.priority_weight > 0, tickets.c.priority_weight.desc(), tickets.c.queued_at
)
_FIRST_NORMAL = _first_candidate(tickets.c.priority_weight == 0, tickets.c.queued_at)


def _appointment_grace(rules: dict[str, Any]) -> timedelta:
    """How early an appointment counts as due (the hall's rule; 15 minutes by default)."""
    return timedelta(minutes=int(rules.get("appointment_grace_minutes", 15)))


def _interleave(rules: dict[str, Any]) -> int:
    """At most this many normal tickets between two priority ones (3 by default)."""
    return int(rules.get("priority_interleave", 3))


def pick_next(conn: Connection, window: Any, rules: dict[str, Any], now: datetime) -> Any:
    """Choose the ticket `call_next` gives this window, or None when nobody waits."""
    grace = _appointment_grace(rules)
    params = {
        "hall_id": window.hall_id,
        "window_id": window.id,
        "day": local_day(now, rules["timezone"]),
        "due_before": now + grace,
    }
    due = _DUE_APPOINTMENT.first(conn, params)
    if due is not None:
        return due
    priority = _FIRST_PRIORITY.first(conn, params)
    normals_since = window.normal_since_priority
    interleave = _interleave(rules)
    if priority is not None and (normals_since is None or normals_since >= interleave):
        return priority
    normal = _FIRST_NORMAL.first(conn, params)
    return normal if normal is not None else priority


def _claim_in_one_statement() -> Prepared:
    """PostgreSQL: `pick_next` and `_call` as one statement, one round trip instead of seven.

    The three candidates are taken with FOR UPDATE SKIP LOCKED (concurrent clerks pass over each
    other's rows instead of waiting), the choice between them follows `pick_next`, and the claim,
    the window's interleave count and the ticket as `load_ticket` reads it come back together.
    The clerk's window comes back too, so a refused call can say why."""
    clerk_window = (
        select(windows.c.id, windows.c.state, windows.c.normal_since_priority)
        .where(
            windows.c.hall_id == bindparam("hall_id"), windows.c.code == bindparam("window_code")
        )
        .cte("clerk_window")
    )
    window_open = exists().where(
        clerk_window.c.id == bindparam("window_id"), clerk_window.c.state == "open"
    )

    def first(name: str, where: ColumnElement[bool], *order: Any) -> Any:
        candidate = (
            select(tickets.c.id)
            .where(_candidates(), where, window_open)
            .order_by(*order, tickets.c.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=tickets)
            .cte(name)
        )
        return select(candidate.c.id).scalar_subquery()

    due = first("due_appointment", _APPOINTMENT_DUE, tickets.c.appointment_at)
    priority = first(
        "first_priority",
        tickets.c.priority_weight > 0,
        tickets.c.priority_weight.desc(),
        tickets.c.queued_at,
    )
    normal = first("first_normal", tickets.c.priority_weight == 0, tickets.c.queued_at)
    since = select(clerk_window.c.normal_since_priority).scalar_subquery()
    priority_turn = and_(
        priority.is_not(None), or_(since.is_(None), since >= bindparam("interleave"))
    )
    chosen = func.coalesce(
        due, case((priority_turn, priority), else_=func.coalesce(normal, priority))
    )
    claimed = (
        update(tickets)
        .where(tickets.c.id == chosen, tickets.c.status == "waiting")
        .values(
            status="called",
            window_id=bindparam("window_id"),
            target_window_id=None,
            called_at=bindparam("now"),
            version=tickets.c.version + 1,
        )
        .returning(*tickets.c)
        .cte("claimed")
    )
    was_due = and_(
        claimed.c.appointment_at.is_not(None),
        claimed.c.appointment_at <= bindparam("due_before"),
    )
    interleave = (
        update(windows)
        .where(windows.c.id == claimed.c.window_id, not_(was_due))
        .values(
            normal_since_priority=case(
                (claimed.c.priority_weight > 0, 0),
                else_=func.coalesce(windows.c.normal_since_priority, 0) + 1,
            )
        )
        .cte("interleave")
    )
    statement = _ticket_select(
        claimed,
        clerk_window.outerjoin(claimed, true()),
        clerk_window.c.id.label("clerk_window_id"),
        clerk_window.c.state.label("clerk_window_state"),
    ).add_cte(interleave)
    return Prepared(statement)


_APPOINTMENT_DUE = and_(
    tickets.c.appointment_at.is_not(None), tickets.c.appointment_at <= bindparam("due_before")
)
_CLAIM_IN_ONE_STATEMENT = _claim_in_one_statement()


def _call_next_in_one_statement(
    conn: Connection,
    hall_id: int,
    window_code: str,
    window_id: int | None,
    now: datetime,
    actor: Actor,
) -> dict[str, Any] | None:
    rules = hall_rules(conn, hall_id)
    grace = _appointment_grace(rules)
    row = _CLAIM_IN_ONE_STATEMENT.first(
        conn,
        {
            "hall_id": hall_id,
            "window_code": window_code,
            "window_id": window_id,
            "day": local_day(now, rules["timezone"]),
            "due_before": now + grace,
            "interleave": _interleave(rules),
            "now": now,
        },
    )
    if row is None or row.clerk_window_id != window_id or row.clerk_window_state != "open":
        _clerks_window(conn, hall_id, window_code, window_id)  # raises what is wrong
        raise Conflict(f"Window {window_code} changed while calling; call again.")
    if row.id is None:
        return None
    return _record_call(conn, hall_id, ticket_to_wire(row), now, actor)


def call_next(
    conn: Connection,
    *,
    hall_id: int,
    window_code: str,
    window_id: int | None,
    now: datetime,
    actor: Actor,
) -> dict[str, Any] | None:
    if conn.dialect.name == "postgresql":
        return _call_next_in_one_statement(conn, hall_id, window_code, window_id, now, actor)
    window = _clerks_window(conn, hall_id, window_code, window_id)
    rules = hall_rules(conn, hall_id)
    chosen = pick_next(conn, window, rules, now)
    if chosen is None:
        return None
    return _call(conn, window, chosen.id, now, actor, kind=_kind(chosen, rules, now))


def _kind(row: Any, rules: dict[str, Any], now: datetime) -> str:
    """How a call counts for the interleave: appointments due now do not count at all."""
    if row.appointment_at is not None:
        grace = _appointment_grace(rules)
        return "appointment" if row.appointment_at <= now + grace else "normal"
    return "priority" if row.priority_weight > 0 else "normal"


def _clerks_window(conn: Connection, hall_id: int, window_code: str, window_id: int | None) -> Any:
    window = window_by_code(conn, hall_id, window_code)
    if window.id != window_id:
        raise Forbidden(f"You are not logged in to window {window_code}.")
    if window.state != "open":
        raise Conflict(
            f"Window {window_code} is {window.state}; resume it before calling.",
            current={"state": window.state, "pause_reason": window.pause_reason},
        )
    return window


_CLAIM_TICKET = Prepared(
    update(tickets)
    .where(tickets.c.id == bindparam("ticket_id"), tickets.c.status == "waiting")
    .values(
        status="called",
        window_id=bindparam("window_id"),
        target_window_id=None,
        called_at=bindparam("now"),
        version=tickets.c.version + 1,
    )
)
_SET_INTERLEAVE = Prepared(
    update(windows)
    .where(windows.c.id == bindparam("window_id"))
    .values(normal_since_priority=bindparam("since"))
)


def _call(
    conn: Connection, window: Any, ticket_id: int, now: datetime, actor: Actor, *, kind: str
) -> dict[str, Any]:
    claimed = _CLAIM_TICKET.rowcount(
        conn, {"ticket_id": ticket_id, "window_id": window.id, "now": now}
    )
    if claimed != 1:
        raise Conflict("Another window called this ticket first.")
    if kind != "appointment":
        since = 0 if kind == "priority" else (window.normal_since_priority or 0) + 1
        _SET_INTERLEAVE.rowcount(conn, {"window_id": window.id, "since": since})
    return _record_call(conn, window.hall_id, load_ticket(conn, ticket_id), now, actor)


def _record_call(
    conn: Connection, hall_id: int, ticket: dict[str, Any], now: datetime, actor: Actor
) -> dict[str, Any]:
    append_event(
        conn,
        hall_id=hall_id,
        type="ticket.called",
        subject_type="ticket",
        subject_id=ticket["id"],
        actor=actor,
        at=now,
        payload=_event_payload(ticket),
    )
    return ticket


def apply_action(
    conn: Connection,
    *,
    ticket_id: int,
    action: str,
    principal: Any,
    body: Any,
    if_match: int | None,
    now: datetime,
) -> dict[str, Any]:
    """Apply one ticket action for `principal`, or refuse it with a clear problem."""
    row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
    if row is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    principal.require_hall(row.hall_id)
    if if_match is not None and if_match != row.version:
        raise PreconditionFailed(
            f"The ticket changed (version {row.version}, you sent {if_match}).",
            current=load_ticket(conn, ticket_id),
        )
    sources, target = TRANSITIONS[action]
    if row.status not in sources:
        raise InvalidTransition(
            f"Ticket {row.number} is {row.status}; it cannot {action}.",
            current={"status": row.status, "version": row.version},
            allowed=allowed_actions(row.status),
        )
    _check_actor(conn, row, action, principal)
    values = _action_values(conn, row, action, principal, body, now)
    values["version"] = row.version + 1
    changed = conn.execute(
        update(tickets)
        .where(tickets.c.id == ticket_id, tickets.c.version == row.version)
        .values(status=target, **values)
    ).rowcount
    if changed != 1:  # only possible on engines with concurrent writers
        raise Conflict("The ticket changed meanwhile; fetch it and try again.")
    ticket = load_ticket(conn, ticket_id)
    payload = _event_payload(ticket)
    if body is not None and body.note:
        payload["note"] = body.note
    if action == "finish":
        payload["outcome"] = ticket["outcome"]
    append_event(
        conn,
        hall_id=row.hall_id,
        type=f"ticket.{action.replace('-', '_')}",
        subject_type="ticket",
        subject_id=ticket_id,
        actor=principal.actor,
        at=now,
        payload=payload,
    )
    return ticket


def _check_actor(conn: Connection, row: Any, action: str, principal: Any) -> None:
    if action == "reactivate":
        principal.require("supervisor", "admin")
        return
    if principal.role in ("supervisor", "admin"):
        if action == "call":
            raise Forbidden("Only a clerk at a window can call a ticket.")
        return
    principal.require("clerk")
    if principal.window_id is None:
        raise Forbidden("Log in to a window first.")
    if action == "call":
        allowed = row.target_window_id == principal.window_id or (
            row.target_window_id is None
            and window_serves(conn, principal.window_id, row.service_item_id)
        )
        if not allowed:
            raise Forbidden(f"Your window does not serve ticket {row.number}'s queue.")
        return
    if row.status != "waiting" and row.window_id != principal.window_id:
        raise Forbidden(f"Ticket {row.number} is held by another window.")
    if row.status == "waiting":
        raise Forbidden("Only a supervisor can move a waiting ticket.")


def _action_values(
    conn: Connection, row: Any, action: str, principal: Any, body: Any, now: datetime
) -> dict[str, Any]:
    if action == "call":
        window = conn.execute(select(windows).where(windows.c.id == principal.window_id)).one()
        if window.state != "open":
            raise Conflict(f"Window {window.code} is {window.state}; resume it before calling.")
        return {"window_id": window.id, "called_at": now, "target_window_id": None}
    if action == "recall":
        return _recall_values(conn, row, now)
    if action == "reactivate":
        return {"window_id": None, "queued_at": row.queued_at}
    if action == "start":
        return {"serving_started_at": now}
    if action == "resume":
        return {"serving_started_at": row.serving_started_at or now}
    if action == "finish":
        if body is None or body.outcome is None:
            raise InvalidInput(
                "finish needs an outcome (completed, case_opened, information_only, referred, "
                "incomplete or abandoned).",
                errors=[{"loc": ["body", "outcome"], "msg": "field required", "type": "missing"}],
            )
        return {"finished_at": now, "outcome": body.outcome}
    if action == "transfer":
        return _transfer_values(conn, row, body)
    if action == "no-show":
        return {"finished_at": now}
    return {}


def _recall_values(conn: Connection, row: Any, now: datetime) -> dict[str, Any]:
    gap = int(hall_rules(conn, row.hall_id).get("recall_min_gap_seconds", 30))
    # the latest announcement: a ticket called again (after reactivate or transfer) keeps the
    # recalled_at of its earlier call
    announced = [at for at in (row.called_at, row.recalled_at) if at is not None]
    last = max(announced) if announced else None
    wait = gap - (now - last).total_seconds() if last is not None else 0
    if wait > 0:
        seconds = int(wait) + (1 if wait % 1 else 0)
        raise RecallTooSoon(
            f"Ticket {row.number} was announced {int(gap - wait)} s ago; "
            f"recall again in {seconds} s.",
            retry_after=seconds,
            headers={"Retry-After": str(seconds)},
        )
    return {"recalled_at": now, "recall_count": row.recall_count + 1}


def _transfer_values(conn: Connection, row: Any, body: Any) -> dict[str, Any]:
    if body is None or (body.window is None and body.service_item is None):
        raise InvalidInput(
            "transfer needs a target window or service item.",
            errors=[
                {"loc": ["body", "window"], "msg": "give window or service_item", "type": "missing"}
            ],
        )
    values: dict[str, Any] = {
        "window_id": None,
        "target_window_id": None,
        "transfer_count": row.transfer_count + 1,
    }
    if body.service_item is not None:
        item = service_item_by_code(conn, row.hall_id, body.service_item, field="service_item")
        values["service_item_id"] = item.id
    if body.window is not None:
        values["target_window_id"] = window_by_code(conn, row.hall_id, body.window).id
    return values


def list_tickets(
    conn: Connection,
    *,
    hall_id: int,
    day: Any,
    status: str | None,
    window: str | None,
    service_item: str | None,
    after_id: int,
    limit: int,
) -> list[dict[str, Any]]:
    where = [tickets.c.hall_id == hall_id, tickets.c.day == day, tickets.c.id > after_id]
    if status:
        where.append(tickets.c.status == status)
    if window:
        w = window_by_code(conn, hall_id, window)
        where.append(or_(tickets.c.window_id == w.id, tickets.c.target_window_id == w.id))
    if service_item:
        item = service_item_by_code(conn, hall_id, service_item, field="service_item")
        where.append(tickets.c.service_item_id == item.id)
    rows = conn.execute(_ticket_select().where(*where).order_by(tickets.c.id).limit(limit))
    return [ticket_to_wire(r) for r in rows]
