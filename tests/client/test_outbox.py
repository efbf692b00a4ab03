"""The offline outbox against the real backend: send, undo, conflicts, order, outage, restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from api_client import Client, Mutation
from api_client.errors import PreconditionFailed, ValidationFailed
from api_client.models import Ticket, TicketActionRequest, TicketIssue
from backend.hall.seed import DEMO_PASSWORD
from backend.server.embedded import EmbeddedServer
from tests.conftest import Backend
from workbench.outbox import Backoff, EntryState, Outbox, OutboxStatus

MARRIAGE = "MZ-001"  # served by window W04 only
FAST = Backoff(initial=0.05, cap=0.2)


async def login(backend: Backend, username: str, window: str | None = None) -> Client:
    client = Client(backend.base_url)
    await client.login(username, DEMO_PASSWORD, window)
    return client


@pytest.fixture
async def terminal(fresh_backend: Backend) -> AsyncIterator[Client]:
    async with await login(fresh_backend, "terminal01") as client:
        yield client


@pytest.fixture
async def clerk(fresh_backend: Backend) -> AsyncIterator[Client]:
    async with await login(fresh_backend, "clerk04", "W04") as client:
        yield client


async def reach(outbox: Outbox, condition: Callable[[OutboxStatus], bool]) -> None:
    """Wait (at most 5 s) until the outbox's status satisfies `condition`."""
    async with asyncio.timeout(5):
        async for status in outbox.watch():
            if condition(status):
                return


def issue() -> Mutation:
    return Mutation.issue_ticket(TicketIssue(service_item=MARRIAGE))


async def called_ticket(terminal: Client, clerk: Client) -> Ticket:
    await terminal.issue_ticket(TicketIssue(service_item=MARRIAGE))
    ticket = await clerk.call_next("W04")
    assert ticket is not None
    return ticket


async def test_a_change_is_stored_then_sent(tmp_path: Path, terminal: Client) -> None:
    statuses: list[OutboxStatus] = []
    sent: list[int] = []
    async with Outbox(tmp_path / "o.db", terminal, undo_seconds=0, backoff=FAST) as outbox:
        outbox.add_listener(statuses.append)
        outbox.add_sent_listener(lambda entry, result: sent.append(result.status))
        entry = await outbox.enqueue(issue())
        async with asyncio.timeout(5):
            done = await outbox.wait_for(entry.id)
    assert done is not None and done.state is EntryState.SENT
    assert done.response_status == 201 and done.response["service_item"] == MARRIAGE
    assert sent == [201]
    assert statuses[0].pending == 1 and statuses[-1] == OutboxStatus()


async def test_undo_within_the_window_sends_nothing(
    tmp_path: Path, terminal: Client, clerk: Client
) -> None:
    async with Outbox(tmp_path / "o.db", terminal, undo_seconds=0.3, backoff=FAST) as outbox:
        undone = await outbox.enqueue(issue())
        assert outbox.status.held == 1
        assert await outbox.undo(undone.id)
        sent = asyncio.Event()
        outbox.add_sent_listener(lambda entry, _answer: sent.set())
        kept = await outbox.enqueue(issue())
        async with asyncio.timeout(5):  # held for the undo window, then sent
            await sent.wait()
            await outbox.wait_idle()
        assert not await outbox.undo(kept.id)
    tickets = (await clerk.tickets(service_item=MARRIAGE)).items
    assert len(tickets) == 1


async def test_a_stale_version_becomes_a_conflict_that_blocks_its_key(
    tmp_path: Path, terminal: Client, clerk: Client
) -> None:
    ticket = await called_ticket(terminal, clerk)
    async with Outbox(tmp_path / "o.db", clerk, undo_seconds=0, backoff=FAST) as outbox:
        stale = await outbox.enqueue(
            Mutation.ticket_action(ticket.id, "start", version=ticket.version - 1)
        )
        behind = await outbox.enqueue(Mutation.ticket_action(ticket.id, "start"))
        other = await outbox.enqueue(issue_as_walk_in())
        async with asyncio.timeout(5):
            conflict = await outbox.wait_for(stale.id)
            await outbox.wait_for(other.id)
        assert conflict is not None and conflict.state is EntryState.CONFLICT
        assert isinstance(conflict.error, PreconditionFailed)
        assert conflict.current is not None and conflict.current["status"] == "called"
        assert outbox.status.conflicts == 1 and outbox.status.pending == 1
        assert (await outbox.get(behind.id)).state is EntryState.PENDING  # type: ignore[union-attr]
        assert await outbox.discard(stale.id)
        async with asyncio.timeout(5):
            sent = await outbox.wait_for(behind.id)
    assert sent is not None and sent.state is EntryState.SENT
    assert (await clerk.ticket(ticket.id)).status == "serving"


def issue_as_walk_in() -> Mutation:
    from api_client.models import WalkIn

    return Mutation.walk_in("W04", WalkIn(service_item=MARRIAGE))


async def test_a_conflict_is_retried_with_a_new_base_version(
    tmp_path: Path, terminal: Client, clerk: Client
) -> None:
    ticket = await called_ticket(terminal, clerk)
    async with Outbox(tmp_path / "o.db", clerk, undo_seconds=0, backoff=FAST) as outbox:
        entry = await outbox.enqueue(Mutation.ticket_action(ticket.id, "start", version=1))
        async with asyncio.timeout(5):
            conflict = await outbox.wait_for(entry.id)
        assert conflict is not None and conflict.current is not None
        assert await outbox.retry(entry.id, base_version=conflict.current["version"])
        async with asyncio.timeout(5):
            sent = await outbox.wait_for(entry.id)
    assert sent is not None and sent.state is EntryState.SENT
    assert sent.idempotency_key != entry.idempotency_key
    assert sent.response["status"] == "serving"


async def test_a_validation_refusal_is_kept_with_its_field_messages(
    tmp_path: Path, terminal: Client, clerk: Client
) -> None:
    ticket = await called_ticket(terminal, clerk)
    await clerk.ticket_action(ticket.id, "start")
    async with Outbox(tmp_path / "o.db", clerk, undo_seconds=0, backoff=FAST) as outbox:
        bad = await outbox.enqueue(Mutation.ticket_action(ticket.id, "finish"))
        good = await outbox.enqueue(
            Mutation.ticket_action(ticket.id, "finish", TicketActionRequest(outcome="completed"))
        )
        async with asyncio.timeout(5):
            refused = await outbox.wait_for(bad.id)
        assert refused is not None and isinstance(refused.error, ValidationFailed)
        assert [f.field for f in refused.error.field_errors] == ["body.outcome"]
        assert [c.id for c in await outbox.conflicts()] == [bad.id]
        await outbox.discard(bad.id)
        async with asyncio.timeout(5):
            finished = await outbox.wait_for(good.id)
    assert finished is not None and finished.response["status"] == "done"


async def test_changes_made_offline_drain_in_order_when_the_server_returns(
    tmp_path: Path, fresh_backend: Backend, terminal: Client
) -> None:
    fresh_backend.server.stop()
    async with Outbox(tmp_path / "o.db", terminal, undo_seconds=0, backoff=FAST) as outbox:
        entries = [await outbox.enqueue(issue()) for _ in range(10)]
        await reach(outbox, lambda status: status.blocked == "offline")
        assert outbox.status.pending == 10 and outbox.status.last_error
        with EmbeddedServer(fresh_backend.settings, port=fresh_backend.server.port):
            async with asyncio.timeout(10):
                await outbox.wait_idle()
            answers = [await outbox.get(e.id) for e in entries]
    numbers = [a.response["number"] for a in answers if a is not None]
    assert len(numbers) == 10 and numbers == sorted(numbers)
    assert outbox.status.blocked is None


async def test_a_non_empty_outbox_drains_on_start(tmp_path: Path, terminal: Client) -> None:
    stored = Outbox(tmp_path / "o.db", terminal, undo_seconds=0)
    for _ in range(3):
        await stored.enqueue(issue())
    await stored.aclose()
    async with Outbox(tmp_path / "o.db", terminal, backoff=FAST) as outbox:
        assert outbox.status.pending == 3
        async with asyncio.timeout(5):
            await outbox.wait_idle()
        assert len(await outbox.entries(EntryState.SENT)) == 3


async def test_a_dead_token_pauses_the_outbox_until_a_new_login(
    tmp_path: Path, terminal: Client
) -> None:
    token = terminal.token
    terminal.token = "expired-token"
    async with Outbox(tmp_path / "o.db", terminal, undo_seconds=0, backoff=FAST) as outbox:
        await outbox.enqueue(issue())
        await reach(outbox, lambda status: status.blocked == "login required")
        assert outbox.status.pending == 1
        terminal.token = token
        outbox.kick()
        async with asyncio.timeout(5):
            status = await outbox.wait_idle()
    assert status.conflicts == 0 and status.blocked is None


async def test_concurrent_sending_keeps_each_keys_order(
    tmp_path: Path, terminal: Client, clerk: Client
) -> None:
    tickets = [await terminal.issue_ticket(TicketIssue(service_item=MARRIAGE)) for _ in range(6)]
    done = TicketActionRequest(outcome="completed")
    async with Outbox(
        tmp_path / "o.db", clerk, undo_seconds=0, backoff=FAST, concurrency=4
    ) as outbox:
        for ticket in tickets:
            await outbox.enqueue(Mutation.ticket_action(ticket.id, "call"))
            await outbox.enqueue(Mutation.ticket_action(ticket.id, "start"))
            await outbox.enqueue(Mutation.ticket_action(ticket.id, "finish", done))
        async with asyncio.timeout(10):
            status = await outbox.wait_idle()
    assert status.conflicts == 0
    statuses = [(await clerk.ticket(t.id)).status for t in tickets]
    assert statuses == ["done"] * len(tickets)
