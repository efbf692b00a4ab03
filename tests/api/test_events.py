"""The event stream over real HTTP: resume without gaps or duplicates, heartbeats, the chain."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse
from sqlalchemy import text

from backend.db.engine import make_engine
from backend.server.embedded import EmbeddedServer
from tests.conftest import Backend, key, seeded_settings


async def read_events(
    client: httpx.AsyncClient,
    count: int,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with aconnect_sse(
        client, "GET", "/api/v1/events", headers=headers or {}, params=params or {}
    ) as source:
        async for sse in source.aiter_sse():
            if sse.data:
                event = json.loads(sse.data)
                assert sse.id == str(event["seq"])
                assert sse.event == event["type"]
                events.append(event)
            if len(events) >= count:
                break
    return events


async def issue_tickets(terminal: httpx.AsyncClient, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        response = await terminal.post(
            "/api/v1/tickets", json={"service_item": "MZ-001"}, headers=key()
        )
        ids.append(response.json()["id"])
    return ids


async def test_a_dropped_stream_resumes_from_last_event_id_without_gap_or_duplicate(
    fresh_backend: Backend, terminal: httpx.AsyncClient
) -> None:
    supervisor = await fresh_backend.login("super01")
    first_batch = await issue_tickets(terminal, 10)
    seen = await read_events(supervisor, 5, params={"after": 0})
    last_id = str(seen[-1]["seq"])  # the connection is dropped here, mid-way
    second_batch = await issue_tickets(terminal, 10)
    async with asyncio.timeout(10):
        rest = await _read_until_ticket(supervisor, last_id, second_batch[-1])
    seqs = [e["seq"] for e in seen + rest]
    assert seqs == list(range(1, len(seqs) + 1)), "gap-free and no duplicates"
    issued = [int(e["subject_id"]) for e in seen + rest if e["type"] == "ticket.issued"]
    assert issued == first_batch + second_batch
    await supervisor.aclose()


async def _read_until_ticket(
    client: httpx.AsyncClient, last_id: str, ticket_id: int
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with aconnect_sse(
        client, "GET", "/api/v1/events", headers={"Last-Event-ID": last_id}
    ) as source:
        async for sse in source.aiter_sse():
            if not sse.data:
                continue
            event = json.loads(sse.data)
            events.append(event)
            if event["type"] == "ticket.issued" and event["subject_id"] == str(ticket_id):
                return events
    return events


async def test_live_events_arrive_as_they_happen(
    fresh_backend: Backend, terminal: httpx.AsyncClient
) -> None:
    clerk = await fresh_backend.login("clerk04", "W04")

    async def listen() -> list[dict[str, Any]]:
        return await read_events(clerk, 2)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.3)  # the stream starts at the newest event
    [ticket_id] = await issue_tickets(terminal, 1)
    await clerk.post("/api/v1/windows/W04/call-next", headers=key())
    async with asyncio.timeout(5):
        events = await listener
    assert [(e["type"], e["subject_id"]) for e in events] == [
        ("ticket.issued", str(ticket_id)),
        ("ticket.called", str(ticket_id)),
    ]
    assert events[1]["payload"]["window"] == "W04"
    assert events[1]["actor"] == "clerk04"
    await clerk.aclose()


async def test_idle_streams_get_heartbeats(tmp_path: Path) -> None:
    settings = seeded_settings(tmp_path, sse_heartbeat_seconds=1)
    with EmbeddedServer(settings) as server:
        client = await Backend(server).login("super01")
        lines = []
        async with asyncio.timeout(5), client.stream("GET", "/api/v1/events") as response:
            async for line in response.aiter_lines():
                lines.append(line)
                if line.startswith(": ping"):
                    break
        assert any(line.startswith("retry:") for line in lines)
        assert lines[-1].startswith(": ping")
        await client.aclose()


async def test_a_bad_last_event_id_is_a_clear_422(backend: Backend) -> None:
    client = await backend.login("super01")
    response = await client.get("/api/v1/events", headers={"Last-Event-ID": "abc"})
    assert response.status_code == 422
    assert "Last-Event-ID" in response.json()["detail"]
    await client.aclose()


async def test_a_last_event_id_after_the_newest_event_is_refused_not_skipped(
    backend: Backend,
) -> None:
    """An id this log has not reached (a database reset or restored since, another server's):
    silently waiting for it would skip every event up to it."""
    client = await backend.login("super01")
    newest = (await client.get("/api/v1/board")).json()["seq"]
    for headers, params in (({"Last-Event-ID": str(newest + 40)}, {}), ({}, {"after": 2**62})):
        response = await client.get("/api/v1/events", headers=headers, params=params)
        assert response.status_code == 422
        assert "after the newest event" in response.json()["detail"]
    await client.aclose()


def _verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", "verify-chain", "--database", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_verify_chain_names_the_first_altered_row(
    fresh_backend: Backend, terminal: httpx.AsyncClient
) -> None:
    await issue_tickets(terminal, 6)
    url = fresh_backend.settings.database_url
    intact = _verify(url)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    engine = make_engine(url)
    with engine.begin() as db:  # an intruder edits the database behind the API's back
        db.execute(text("UPDATE events SET payload = :p WHERE seq = 5"), {"p": '{"n": "HY999"}'})
    altered = _verify(url)
    assert altered.returncode == 1
    assert "seq 5" in altered.stderr
    with engine.begin() as db:
        original = db.execute(text("SELECT payload FROM events WHERE seq = 6")).scalar()
        db.execute(text("UPDATE events SET payload = :p WHERE seq = 5"), {"p": original})
        db.execute(text("DELETE FROM events WHERE seq = 3"))
    engine.dispose()
    removed = _verify(url)
    assert removed.returncode == 1
    assert "seq 4" in removed.stderr or "seq 3" in removed.stderr


async def test_events_carry_no_personal_data(
    fresh_backend: Backend,
) -> None:
    portal = await fresh_backend.login("portal01")
    applicant = {"id_number": "11010519491231002X", "name": "张三", "phone": "13800138000"}
    created = await portal.post(
        "/api/v1/cases",
        json={"service_item": "MZ-002", "applicant": applicant},
        headers=key(),
    )
    assert created.status_code == 201
    supervisor = await fresh_backend.login("super01")
    events: list[str] = []
    async with supervisor.stream("GET", "/api/v1/events", params={"after": 0}) as response:
        async for line in response.aiter_lines():
            events.append(line)
            if "case.submitted" in line and line.startswith("data:"):
                break
    text = "\n".join(events)
    assert "11010519491231002X" not in text
    assert "13800138000" not in text
    await portal.aclose()
    await supervisor.aclose()


async def _read_until_the_stream_ends(
    client: httpx.AsyncClient, opened: asyncio.Event
) -> list[str]:
    types: list[str] = []
    async with aconnect_sse(client, "GET", "/api/v1/events") as source:
        opened.set()
        async for sse in source.aiter_sse():
            if sse.data:
                types.append(json.loads(sse.data)["type"])
    return types


async def test_a_stream_ends_when_its_session_is_logged_out(
    fresh_backend: Backend, terminal: httpx.AsyncClient
) -> None:
    supervisor = await fresh_backend.login("super01")
    opened = asyncio.Event()
    watcher = asyncio.create_task(_read_until_the_stream_ends(supervisor, opened))
    async with asyncio.timeout(5):
        await opened.wait()
    await issue_tickets(terminal, 1)
    assert (await supervisor.post("/api/v1/auth/logout")).status_code == 204
    async with asyncio.timeout(12):  # SESSION_CHECK_SECONDS and the principal cache's 2 s
        while not watcher.done():  # the hall goes on issuing tickets until the stream ends
            await issue_tickets(terminal, 1)
            await asyncio.wait([watcher], timeout=0.2)
    assert watcher.result()[0] == "ticket.issued", "the stream delivered while logged in"
    again = await supervisor.get("/api/v1/events")
    assert again.status_code == 401
    assert again.json()["type"].endswith("token-revoked")
    await supervisor.aclose()


async def test_a_stream_from_further_back_than_the_instance_holds_catches_up_without_gaps(
    tmp_path: Path,
) -> None:
    """The instance keeps only the newest 20 events in memory: a stream from the start reads the
    table until it is within reach, then goes on live, each event once and in order."""
    with EmbeddedServer(seeded_settings(tmp_path, event_tail_events=20)) as server:
        backend = Backend(server)
        terminal = await backend.login("terminal01")
        supervisor = await backend.login("super01")
        first = await issue_tickets(terminal, 120)
        got: list[dict[str, Any]] = []
        opened = asyncio.Event()

        async def follow(tickets: int) -> None:
            async with aconnect_sse(
                supervisor, "GET", "/api/v1/events", params={"after": 0}
            ) as source:
                opened.set()
                async for sse in source.aiter_sse():
                    if sse.data:
                        got.append(json.loads(sse.data))
                        if sum(e["type"] == "ticket.issued" for e in got) == tickets:
                            return

        follower = asyncio.create_task(follow(len(first) + 30))
        async with asyncio.timeout(5):
            await opened.wait()
        later = await issue_tickets(terminal, 30)
        async with asyncio.timeout(10):
            await follower
        seqs = [event["seq"] for event in got]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap-free, each once"
        assert seqs[0] == 1
        issued = [int(e["subject_id"]) for e in got if e["type"] == "ticket.issued"]
        assert issued == first + later
        for client in (terminal, supervisor):
            await client.aclose()
