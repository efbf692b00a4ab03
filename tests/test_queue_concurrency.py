"""Many clerks calling at once: no ticket is ever given to two windows and none is skipped."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from backend.embedded import EmbeddedServer
from tests.conftest import Backend, key, seeded_settings
from tests.halls import demo_hall_with_clerks

CLERKS = 50
TICKETS = 2000


async def _issue_all(terminal: httpx.AsyncClient) -> set[int]:
    ids: set[int] = set()
    for start in range(0, TICKETS, 100):
        responses = await asyncio.gather(
            *(
                terminal.post("/api/v1/tickets", json={"service_item": "MZ-001"}, headers=key())
                for _ in range(start, min(start + 100, TICKETS))
            )
        )
        ids.update(r.json()["id"] for r in responses if r.status_code == 201)
    return ids


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
    with EmbeddedServer(settings) as server:
        backend = Backend(server)
        terminal = await backend.login("terminal01")
        issued = await _issue_all(terminal)
        assert len(issued) == TICKETS
        clerks = [await backend.login(f"xclerk{n:02d}", f"X{n:02d}") for n in range(1, CLERKS + 1)]
        per_clerk = await asyncio.gather(
            *(_call_until_empty(c, f"X{n:02d}") for n, c in enumerate(clerks, start=1))
        )
        calls = Counter(ticket_id for called in per_clerk for ticket_id in called)
        assert set(calls) == issued, "every issued ticket was called"
        assert max(calls.values()) == 1, "no ticket was given to two windows"
        assert sum(1 for called in per_clerk if called) > CLERKS // 2, "the work was shared"
        waiting = await clerks[0].get("/api/v1/tickets", params={"status": "waiting"})
        assert waiting.json()["items"] == []
        for client in [terminal, *clerks]:
            await client.aclose()
