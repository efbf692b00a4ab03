"""Provides emergency alarms: a clerk raises one for a window; a supervisor acknowledges it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from backend.auth.sessions import Principal
from backend.db.engine import inserted_id
from backend.db.event_log import append_event
from backend.db.schema import alarms, users, windows
from backend.hall.catalogue import window_by_code
from backend.problems import Conflict, Forbidden, NotFound


def _alarm_select() -> Any:
    raiser = users.alias("raiser")
    acknowledger = users.alias("acknowledger")
    return (
        select(
            alarms,
            windows.c.code.label("window_code"),
            raiser.c.username.label("raiser_name"),
            acknowledger.c.username.label("acknowledger_name"),
        )
        .join(windows, windows.c.id == alarms.c.window_id)
        .join(raiser, raiser.c.id == alarms.c.raised_by)
        .outerjoin(acknowledger, acknowledger.c.id == alarms.c.acknowledged_by)
    )


def _to_wire(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "window": row.window_code,
        "raised_by": row.raiser_name,
        "raised_at": row.raised_at,
        "note": row.note,
        "acknowledged_by": row.acknowledger_name,
        "acknowledged_at": row.acknowledged_at,
    }


def load_alarm(conn: Connection, alarm_id: int) -> tuple[int, dict[str, Any]]:
    row = conn.execute(_alarm_select().where(alarms.c.id == alarm_id)).first()
    if row is None:
        raise NotFound(f"There is no alarm {alarm_id}.")
    return row.hall_id, _to_wire(row)


def raise_alarm(
    conn: Connection, principal: Principal, window_code: str, note: str | None, now: datetime
) -> dict[str, Any]:
    window = window_by_code(conn, principal.hall_id, window_code)
    if window.id != principal.window_id:
        raise Forbidden(f"You are not logged in to window {window_code}.")
    alarm_id = inserted_id(
        conn.execute(
            insert(alarms).values(
                hall_id=principal.hall_id,
                window_id=window.id,
                raised_by=principal.user_id,
                raised_at=now,
                note=note,
            )
        )
    )
    _, alarm = load_alarm(conn, alarm_id)
    append_event(
        conn,
        hall_id=principal.hall_id,
        type="window.alarm_raised",
        subject_type="window",
        subject_id=window_code,
        actor=principal.actor,
        at=now,
        payload={"alarm": alarm_id, "window": window_code, "note": note},
    )
    return alarm


def acknowledge_alarm(
    conn: Connection, principal: Principal, alarm_id: int, now: datetime
) -> dict[str, Any]:
    hall_id, alarm = load_alarm(conn, alarm_id)
    principal.require_hall(hall_id)
    if alarm["acknowledged_at"] is not None:
        raise Conflict(
            f"Alarm {alarm_id} was already acknowledged by {alarm['acknowledged_by']}.",
            current=alarm,
        )
    conn.execute(
        update(alarms)
        .where(alarms.c.id == alarm_id)
        .values(acknowledged_by=principal.user_id, acknowledged_at=now)
    )
    _, alarm = load_alarm(conn, alarm_id)
    append_event(
        conn,
        hall_id=hall_id,
        type="window.alarm_acknowledged",
        subject_type="window",
        subject_id=alarm["window"],
        actor=principal.actor,
        at=now,
        payload={"alarm": alarm_id, "window": alarm["window"]},
    )
    return alarm


def list_alarms(conn: Connection, hall_id: int, open_only: bool) -> list[dict[str, Any]]:
    statement = _alarm_select().where(alarms.c.hall_id == hall_id)
    if open_only:
        statement = statement.where(alarms.c.acknowledged_at.is_(None))
    rows = conn.execute(statement.order_by(alarms.c.id.desc()).limit(200))
    return [_to_wire(row) for row in rows]
