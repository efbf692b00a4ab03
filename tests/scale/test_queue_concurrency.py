"""Many clerks calling at once: no ticket is ever given to two windows and none is skipped."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from backend.db.engine import Database
from backend.hall.seed import add_waiting_tickets
from tests.conftest import DEMO_PASSWORD, key, seeded_settings
from tests.halls import demo_hall_with_clerks
from tests.servers import ServerProcess

CLERKS = 50
TICKETS = 2000


async def _login(base_url: str, n: int) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=60.0)
    body = {"username": f"xclerk{n:02d}", "password": DEMO_PASSWORD, "window": f"X{n:02d}"}
    response = await client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


async def _call_until_empty(clerk: httpx.AsyncClient, window: str) -> list[int]:
    called = []
    while True:
        response = await clerk.post(f"/api/v1/windows/{window}/call-next", headers=key())
        if response.status_code == 204:
            return called
        assert response.status_code == 200, response.text
        called.append(response.json()["id"])


async def test_fifty_clerks_call_two_thousand_tickets_each_exactly_once(tmp_path: Path) -> None:
    settings = seeded_settings(tmp_path, demo_hall_with_clerks(CLERKS))
    db = Database(settings.database_url)
    db.run_write(add_waiting_tickets, "DL-ZS", "MZ-001", TICKETS, datetime.now(UTC))
    db.close()
    # the server in its own process, so 50 clients and the server do not share one interpreter
    with ServerProcess(settings.database_url) as server:
        clerks = await asyncio.gather(*(_login(server.base_url, n) for n in range(1, CLERKS + 1)))
        per_clerk = await asyncio.gather(
            *(_call_until_empty(c, f"X{n:02d}") for n, c in enumerate(clerks, start=1))
        )
        waiting = await clerks[0].get("/api/v1/tickets", params={"status": "waiting"})
        for client in clerks:
            await client.aclose()
    calls = Counter(ticket_id for called in per_clerk for ticket_id in called)
    assert len(calls) == TICKETS, "every waiting ticket was called"
    assert max(calls.values()) == 1, "no ticket was given to two windows"
    assert sum(1 for called in per_clerk if called) > CLERKS // 2, "the work was shared"
    assert waiting.json()["items"] == []
