"""Graceful shutdown of `workbench serve`: on SIGTERM a request already in flight (its body still
arriving) is finished and answered, open event streams are closed so they do not hold the exit,
new connections are refused, and the process exits well before the graceful timeout."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import seeded_settings
from tests.servers import ServerProcess


async def _login(client: httpx.AsyncClient, user: str) -> None:
    body = {"username": user, "password": DEMO_PASSWORD}
    response = await client.post("/api/v1/auth/login", json=body)
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"


async def test_sigterm_finishes_in_flight_requests_and_closes_streams(tmp_path: Path) -> None:
    settings = seeded_settings(tmp_path)
    server = ServerProcess(settings.database_url).start()
    assert server.process is not None
    try:
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=30) as terminal,
            httpx.AsyncClient(base_url=server.base_url, timeout=30) as watcher,
        ):
            await _login(terminal, "terminal01")
            await _login(watcher, "super01")
            stream_lines: list[str] = []
            stream_ended = asyncio.Event()

            async def watch() -> None:
                try:
                    async with watcher.stream("GET", "/api/v1/events", params={"after": 0}) as r:
                        assert r.status_code == 200
                        async for line in r.aiter_lines():
                            stream_lines.append(line)
                except httpx.RemoteProtocolError:
                    pass  # closed mid-chunk: an SSE client reconnects, resuming by its id
                stream_ended.set()

            watching = asyncio.create_task(watch())
            await asyncio.sleep(0.5)
            body = json.dumps({"service_item": "MZ-001"}).encode()
            body_started = asyncio.Event()

            async def trickle() -> AsyncIterator[bytes]:
                yield body[:5]
                body_started.set()
                await asyncio.sleep(1.0)  # SIGTERM arrives while the body is still coming
                yield body[5:]

            request = asyncio.create_task(
                terminal.post(
                    "/api/v1/tickets",
                    content=trickle(),
                    headers={
                        "Content-Type": "application/json",
                        "Idempotency-Key": "graceful-1",
                    },
                )
            )
            await body_started.wait()
            await asyncio.sleep(0.2)
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            response = await request
            assert response.status_code == 201, response.text
            async with asyncio.timeout(8):
                await stream_ended.wait()
            await watching
            exit_code = await asyncio.to_thread(server.process.wait, 15)
            took = time.monotonic() - signalled
            # uvicorn re-raises the SIGTERM it caught once it has shut down cleanly
            assert exit_code in (0, -signal.SIGTERM)
            assert took < 8, f"shutdown took {took:.1f} s (streams held it?)"
            assert any(line.startswith("id:") for line in stream_lines)
    finally:
        server.kill()
    # what was answered was committed
    again = ServerProcess(settings.database_url).start()
    try:
        async with httpx.AsyncClient(base_url=again.base_url, timeout=30) as staff:
            await _login(staff, "super01")
            listed = await staff.get("/api/v1/tickets", params={"service_item": "MZ-001"})
            assert len(listed.json()["items"]) == 1
    finally:
        again.stop()
