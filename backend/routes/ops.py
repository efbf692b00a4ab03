"""Provides the operator endpoints: `/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Connection, func, select, text

from backend.db.migrate import head_revision, schema_revision
from backend.db.schema import cases, halls, tickets
from backend.routes.common import State

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _ping(conn: Connection) -> str | None:
    conn.execute(text("SELECT 1"))
    return schema_revision(conn)


@router.get(
    "/readyz", summary="The database is reachable and its schema is current", responses={503: {}}
)
async def readyz(state: State) -> Any:
    try:
        current = await state.db.read(_ping)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
    head = head_revision()
    if current != head:
        return JSONResponse(
            {"status": "migrating", "schema": current, "expected": head}, status_code=503
        )
    return {"status": "ready", "schema": current}


def _queue_lengths(conn: Connection) -> list[tuple[str, str, int]]:
    waiting = (
        select(halls.c.code, func.count(tickets.c.id))
        .join(tickets, tickets.c.hall_id == halls.c.id)
        .where(tickets.c.status == "waiting")
        .group_by(halls.c.code)
    )
    unassigned = (
        select(halls.c.code, func.count(cases.c.id))
        .join(cases, cases.c.hall_id == halls.c.id)
        .where(cases.c.status == "submitted", cases.c.assignee_id.is_(None))
        .group_by(halls.c.code)
    )
    lengths = {(code, "tickets_waiting"): 0 for code in conn.scalars(select(halls.c.code))}
    lengths |= {(code, "cases_unassigned"): 0 for code, _ in lengths}
    lengths |= {(code, "tickets_waiting"): n for code, n in conn.execute(waiting).all()}
    lengths |= {(code, "cases_unassigned"): n for code, n in conn.execute(unassigned).all()}
    return [(code, queue, n) for (code, queue), n in lengths.items()]


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request, state: State) -> Response:
    collected = request.app.state.metrics
    try:
        for hall, queue, length in await state.db.read(_queue_lengths):
            collected.queue_length.labels(hall, queue).set(length)
    except Exception:  # metrics must answer even when the database does not
        pass
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)
