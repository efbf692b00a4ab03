"""The state store and the session that feeds it, against the real backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from api_client import Client, ConnectionState, Mutation, ReconnectPolicy
from api_client.models import TicketIssue
from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend
from workbench.credentials import CredentialStore
from workbench.session import WorkbenchSession
from workbench.settings import load_settings
from workbench.store import Snapshot, Store

MARRIAGE = "MZ-001"  # served by window W04 only


async def until(store: Store, condition: Callable[[Snapshot], bool]) -> None:
    """Wait (at most 5 s) until the store's snapshot satisfies `condition`."""
    async with asyncio.timeout(5):
        async for snapshot in store.watch():
            if condition(snapshot):
                return


def test_subscribers_get_old_and_new_snapshots() -> None:
    store = Store()
    changes: list[tuple[Snapshot, Snapshot]] = []
    unsubscribe = store.subscribe(lambda old, new: changes.append((old, new)))
    store.set_connection(ConnectionState.CONNECTED)
    store.set_connection(ConnectionState.CONNECTED)
    unsubscribe()
    store.set_connection(ConnectionState.OFFLINE)
    assert len(changes) == 1
    old, new = changes[0]
    assert old.connection is ConnectionState.CONNECTING
    assert new.connection is ConnectionState.CONNECTED


async def test_watch_yields_the_latest_snapshot() -> None:
    store = Store()
    seen: list[ConnectionState] = []

    async def watch() -> None:
        async for snapshot in store.watch():
            seen.append(snapshot.connection)
            if snapshot.connection is ConnectionState.OFFLINE:
                return

    task = asyncio.create_task(watch())
    await asyncio.sleep(0)
    store.set_connection(ConnectionState.OFFLINE)
    async with asyncio.timeout(2):
        await task
    assert seen == [ConnectionState.CONNECTING, ConnectionState.OFFLINE]


async def test_session_feeds_the_store(tmp_path: Path, fresh_backend: Backend) -> None:
    settings = load_settings(
        server_url=fresh_backend.base_url, outbox_path=tmp_path / "o.db", undo_seconds=0
    )
    credentials = CredentialStore()
    quick = ReconnectPolicy(initial=0.05, max_delay=0.2)
    async with (
        WorkbenchSession(settings, credentials=credentials, stream_policy=quick) as session,
        Client(fresh_backend.base_url) as terminal,
    ):
        await session.login("clerk04", DEMO_PASSWORD, "W04")
        await terminal.login("terminal01", DEMO_PASSWORD)
        store = session.store
        assert store.snapshot.me is not None and store.snapshot.window == "W04"
        assert MARRIAGE in store.snapshot.service_items
        assert credentials.get(f"{fresh_backend.base_url}|clerk04") == session.client.token

        session.start_live(after=0)
        await until(store, lambda s: s.connection is ConnectionState.CONNECTED)
        ticket = await terminal.issue_ticket(TicketIssue(service_item=MARRIAGE))
        await terminal.issue_ticket(TicketIssue(service_item="GA-003"))  # not for W04
        await until(store, lambda s: [i.id for i in s.work_list] == [ticket.id])
        assert store.snapshot.waiting == 1

        entry = await session.submit(Mutation.call_next("W04"), hold=False)
        async with asyncio.timeout(5):
            await session.outbox.wait_for(entry.id)
        await until(store, lambda s: s.work_list[0].status == "called")
        current = store.snapshot.current_ticket
        assert current is not None and current.id == ticket.id
        assert store.snapshot.outbox.pending == 0

        await session.client.ticket_action(ticket.id, "start")
        await until(
            store, lambda s: s.current_ticket is not None and s.current_ticket.status == "serving"
        )
        assert store.snapshot.last_event_seq is not None

    async with WorkbenchSession(settings, credentials=credentials) as again:
        assert await again.resume("clerk04")
        assert again.store.snapshot.window == "W04"
        await again.logout()
        assert again.store.snapshot.me is None
        assert not await again.resume("clerk04")


def test_the_client_core_never_imports_textual() -> None:
    import subprocess
    import sys

    modules = "api_client, workbench.session, workbench.outbox, workbench.store, workbench.settings"
    code = f"import sys, {modules}; assert 'textual' not in sys.modules, 'textual imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
