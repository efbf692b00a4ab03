"""Provides `create_app`: the FastAPI application of the reference backend."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.db.engine import Database
from backend.db.event_log import ensure_chain_head
from backend.db.migrate import migration_lock, upgrade_to_head
from backend.db.window_locks import lock_batch_windows
from backend.documents.opening import open_document_store
from backend.events.tail import event_tail
from backend.problems import install_problem_handlers
from backend.routes import (
    alarms,
    auth,
    board,
    cases,
    catalogue,
    decisions,
    display,
    documents,
    e_licences,
    events,
    merges,
    ops,
    ratings,
    tickets,
)
from backend.routes.claim_lane import claim_routes
from backend.routes.idempotency import prefetch_stored_responses, store_batch_responses
from backend.routes.shadowed import shadow_guards
from backend.runtime.clock import Clock
from backend.runtime.passwords import Passwords
from backend.runtime.settings import BackendSettings
from backend.runtime.state import AppState, PrincipalCache
from backend.server.logging_setup import RequestIdMiddleware
from backend.server.metrics import BodySizeLimit, Metrics, MetricsMiddleware
from backend.server.openapi import refine
from backend.server.pg_listener import event_listener
from backend.server.utf8_bodies import Utf8JsonBodies

API_VERSION = "1.0.0"


def prepare_database(db: Database) -> None:
    """Migrate the schema to head and make sure the event chain has its head row (one instance
    at a time, when several start together)."""
    with migration_lock(db.engine):
        upgrade_to_head(db.engine)
        db.run_write(ensure_chain_head)


def create_app(settings: BackendSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or BackendSettings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.database_url,
            read_threads=settings.read_threads,
            write_threads=settings.write_threads,
            executor=settings.db_executor,
        )
        prepare_database(db)
        db.batch_preparers.append(lock_batch_windows)  # first: before the batch reads
        db.batch_preparers.append(prefetch_stored_responses)
        db.batch_finishers.append(store_batch_responses)
        passwords = Passwords(
            time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib
        )
        state = AppState(
            settings=settings,
            db=db,
            clock=clock or Clock(),
            passwords=passwords,
            principals=PrincipalCache(settings.principal_cache_seconds),
        )
        app.state.workbench = state
        app.state.documents = open_document_store(settings, db)
        metrics.stream_clients.set_function(lambda: state.stream_clients)
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(db.close)  # last, once the listener and the tail's reader are stopped
            if db.engine.dialect.name == "postgresql":
                await stack.enter_async_context(
                    event_listener(db.url, state.notifier, state.principals)
                )
            state.tail = await stack.enter_async_context(
                event_tail(
                    db, state.notifier, settings.sse_poll_seconds, settings.event_tail_events
                )
            )
            yield

    app = FastAPI(
        title="Service Workbench API",
        version=API_VERSION,
        summary="The reference backend of the Intelligent Government Service Workbench.",
        lifespan=lifespan,
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
    )
    app.state.metrics = metrics
    generate = app.openapi
    app.openapi = lambda: refine(generate())  # type: ignore[method-assign]
    install_problem_handlers(app)
    # the busiest routes first: a request is matched against the routes in order
    routers = (
        tickets,
        auth,
        catalogue,
        alarms,
        merges,
        board,
        cases,
        decisions,
        e_licences,
        ratings,
        documents,
        events,
        display,
        ops,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(tickets.actions_router)  # last: its path matches any ticket sub-route
    # before the others: a fixed path's missing methods, which a sibling would take (405)
    app.router.routes[:0] = shadow_guards(app.openapi().get("paths", {}))
    app.router.routes[:0] = claim_routes()  # first: see backend/routes/claim_lane.py
    app.add_middleware(Utf8JsonBodies)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger=(("PUT", documents.DOCUMENTS_PATH, settings.max_document_bytes),),
    )
    app.add_middleware(RequestIdMiddleware)
    return app
