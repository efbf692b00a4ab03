"""Provides the operator endpoints: `/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Connection, text

from backend.db.migrate import current_revision, head_revision
from backend.routes.common import State

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _ping(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))


@router.get(
    "/readyz", summary="The database is reachable and its schema is current", responses={503: {}}
)
async def readyz(state: State) -> Any:
    try:
        await state.db.read(_ping)
        current = current_revision(state.db.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
    head = head_revision()
    if current != head:
        return JSONResponse(
            {"status": "migrating", "schema": current, "expected": head}, status_code=503
        )
    return {"status": "ready", "schema": current}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
