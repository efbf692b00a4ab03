"""Provides the Prometheus metrics of one API instance and the ASGI middleware that feeds them."""

from __future__ import annotations

import json
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.problems import PayloadTooLarge


class Metrics:
    """One registry per app, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "workbench_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "workbench_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.stream_clients = Gauge(
            "workbench_event_stream_clients", "Open event streams.", registry=self.registry
        )
        self.claims = Counter(
            "workbench_claims_total",
            "Claims (call next ticket, claim next online case) by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.idempotent_replays = Counter(
            "workbench_idempotent_replays_total",
            "Requests answered from a stored response (a client's outbox resent them).",
            ["route"],
            registry=self.registry,
        )
        self.queue_length = Gauge(
            "workbench_queue_length",
            "Waiting tickets and unassigned online cases per hall (at scrape time).",
            ["hall", "queue"],
            registry=self.registry,
        )


CLAIM_ROUTES = {
    "/api/v1/windows/{window}/call-next": "ticket",
    "/api/v1/cases/claim-next": "case",
}


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class MetricsMiddleware:
    """Counts requests and their latency (a pure ASGI middleware: no body buffering)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "replayed": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                for name, value in message.get("headers") or ():
                    if name.lower() == b"idempotency-replayed" and value == b"true":
                        status["replayed"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            code = int(status["code"])
            self.metrics.requests.labels(scope["method"], route, str(code)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
            if status["replayed"]:
                self.metrics.idempotent_replays.labels(route).inc()
            kind = CLAIM_ROUTES.get(route)
            if kind is not None and code in (200, 204) and not status["replayed"]:
                self.metrics.claims.labels(kind, "claimed" if code == 200 else "empty").inc()


class BodySizeLimit:
    """Refuses request bodies over `max_bytes` with 413 problem+json, streamed or not.

    A declared `Content-Length` over the limit is refused before the app runs. A streamed
    (chunked) body is counted as the app reads it; going over raises `BodyTooLarge`, an
    `HTTPException`, so FastAPI passes it through its body parsing (which turns any other
    exception into a 400) to the problem handler; if it escapes the app before a response
    started, it is answered here.

    `larger` raises the limit for some routes: (method, path prefix, limit), e.g. the document
    upload's, whose body streams to the store instead of into memory.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: tuple[tuple[str, str, int], ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger

    def _limit(self, scope: Scope) -> int:
        method, path = scope.get("method"), str(scope.get("path", ""))
        for wanted, prefix, limit in self.larger:
            if method == wanted and path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope) if self.larger else self.max_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > max_bytes:
                await _too_large(send, max_bytes, scope.get("path"))
                return
            # the server delivers no more than the declared length: nothing left to count
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(send, max_bytes, scope.get("path"))


class BodyTooLarge(HTTPException):
    """A streamed request body went over the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_too_large_detail(limit))


def _too_large_detail(limit: int) -> str:
    return f"Request bodies are limited to {limit} bytes."


async def _too_large(send: Send, limit: int, path: str | None) -> None:
    body: dict[str, Any] = PayloadTooLarge(_too_large_detail(limit)).body(path)
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
