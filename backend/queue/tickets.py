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

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from backend.db.event_log import append_event
from backend.db.schema import tickets, windows
from backend.hall.catalogue import hall_rules, service_item_by_code, window_by_code, window_serves
from backend.problems import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    RecallTooSoon,
    TransferWindowNotOpen,
    WindowNotOpen,
)
from backend.queue.records import load_ticket, ticket_event_payload

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


def event_type(action: str) -> str:
    """The event an action appends: `ticket.<action>`, except that calling a chosen ticket is
    `ticket.called` like calling the next one (one name for a call, whichever way it came)."""
    return "ticket.called" if action == "call" else f"ticket.{action.replace('-', '_')}"


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


# Appointment tickets are stored with weight 0: before they are due they wait like anyone else.


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
    payload = ticket_event_payload(ticket)
    if body is not None and body.note:
        payload["note"] = body.note
    if action == "transfer":
        payload["reason"] = body.reason
    if action == "finish":
        payload["outcome"] = ticket["outcome"]
    append_event(
        conn,
        hall_id=row.hall_id,
        type=event_type(action),
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
            raise WindowNotOpen(
                f"Window {window.code} is {window.state}; resume it before calling.",
                window=window.code,
                state=window.state,
            )
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
    if not body.reason:
        raise InvalidInput(
            "transfer needs a reason: say why the ticket moves.",
            errors=[{"loc": ["body", "reason"], "msg": "field required", "type": "missing"}],
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
        target = window_by_code(conn, row.hall_id, body.window)
        if target.state != "open":
            raise TransferWindowNotOpen(
                f"Window {target.code} is {target.state}: nobody there would call ticket "
                f"{row.number}. Send it to an open window.",
                window=target.code,
                state=target.state,
            )
        values["target_window_id"] = target.id
    return values
