"""Crashes while changes are in flight: SIGKILL the backend, SIGKILL the client; nothing is lost
or applied twice. Issuing a ticket is not naturally idempotent (each POST makes a new ticket), so
a doubled send would show up as an extra ticket."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_client import Client, EventStream, Mutation, ReconnectPolicy
from api_client.models import Event, TicketIssue
from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend, seeded_settings
from tests.servers import ServerProcess
from workbench.outbox import Backoff, EntryState, Outbox

ROOT = Path(__file__).resolve().parents[2]
MARRIAGE = "MZ-001"  # served by window W04 only
FAST = Backoff(initial=0.05, cap=0.3)


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    settings = seeded_settings(tmp_path)
    server = ServerProcess(settings.database_url)
    server.start()
    yield server
    server.kill()


async def all_events(client: Client) -> list[Event]:
    """The whole event log, read through the stream until it has been quiet for a moment."""
    stream = EventStream(client, after=0, policy=ReconnectPolicy(initial=0.05, max_delay=0.2))
    events: list[Event] = []

    async def read() -> None:
        async for event in stream:
            events.append(event)

    task = asyncio.create_task(read())
    seen = -1
    while seen != len(events):
        seen = len(events)
        await asyncio.sleep(0.5)
    await stream.aclose()
    task.cancel()
    return events


async def wait_answered(outbox: Outbox, total: int, count: int) -> None:
    """Wait until the server has answered `count` of the `total` entries."""
    async with asyncio.timeout(20):
        async for status in outbox.watch():
            if total - status.pending >= count:
                return


async def test_backend_sigkill_while_changes_are_in_flight(
    tmp_path: Path, server_process: ServerProcess
) -> None:
    terminal = Client(server_process.base_url)
    clerk = Client(server_process.base_url)
    await terminal.login("terminal01", DEMO_PASSWORD)
    await clerk.login("clerk04", DEMO_PASSWORD, "W04")
    issuing = Outbox(tmp_path / "t.db", terminal, undo_seconds=0, backoff=FAST)
    calling = Outbox(tmp_path / "c.db", clerk, undo_seconds=0, backoff=FAST)
    for _ in range(60):
        await issuing.enqueue(Mutation.issue_ticket(TicketIssue(service_item=MARRIAGE)))
    for _ in range(20):
        await calling.enqueue(Mutation.call_next("W04"))
    await issuing.start()
    await calling.start()
    for sent in (15, 40):
        await wait_answered(issuing, 60, sent)
        server_process.kill()
        await asyncio.sleep(0.2)
        server_process.start()
    async with asyncio.timeout(30):
        await issuing.wait_idle()
        await calling.wait_idle()
    issued = await issuing.entries(EntryState.SENT)
    calls = await calling.entries(EntryState.SENT)
    events = await all_events(clerk)
    async with Client(server_process.base_url) as staff:
        await staff.login("super01", DEMO_PASSWORD)
        listed = [t async for t in staff.iter_tickets(service_item=MARRIAGE)]
    for outbox in (issuing, calling):
        assert outbox.status.conflicts == 0
        await outbox.aclose()
    await terminal.aclose()
    await clerk.aclose()

    assert len(issued) == 60 and len(calls) == 20
    assert any(e.attempts > 1 for e in issued)  # some were resent after a crash
    kinds = Counter(e.type for e in events)
    assert kinds["ticket.issued"] == 60 and len(listed) == 60
    assert sorted(e.response["id"] for e in issued) == sorted(t.id for t in listed)
    called = [e.response["id"] for e in calls if e.response_status == 200]
    assert kinds["ticket.called"] == len(called) == len(set(called))
    assert sum(t.status == "called" for t in listed) == len(called)


CLIENT_SCRIPT = """
import asyncio, os, sys
from api_client import Client, Mutation
from api_client.models import TicketIssue
from workbench.outbox import Outbox

async def main() -> None:
    client = Client(os.environ["SW_URL"], token=os.environ["SW_TOKEN"])
    outbox = Outbox(sys.argv[1], client, undo_seconds=0)
    for _ in range(int(sys.argv[2])):
        await outbox.enqueue(Mutation.issue_ticket(TicketIssue(service_item="MZ-001")))
    outbox.add_sent_listener(lambda entry, result: print("sent", entry.id, flush=True))
    await outbox.start()
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def run_client_until(script: Path, env: dict[str, str], args: list[str], sent: int) -> int:
    """Start the client process, SIGKILL it once it reported `sent` answers; returns them."""
    command = [sys.executable, str(script), *args]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    seen = 0
    for line in process.stdout:
        seen += line.startswith("sent")
        if seen >= sent:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return seen


async def test_client_sigkill_mid_send_then_restart(tmp_path: Path, fresh_backend: Backend) -> None:
    terminal = Client(fresh_backend.base_url)
    await terminal.login("terminal01", DEMO_PASSWORD)
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    env = {**os.environ, "SW_URL": fresh_backend.base_url, "SW_TOKEN": terminal.token or ""}
    outbox_file = str(tmp_path / "outbox.db")
    first = await asyncio.to_thread(run_client_until, script, env, [outbox_file, "40"], 10)
    second = await asyncio.to_thread(run_client_until, script, env, [outbox_file, "0"], 10)
    async with Outbox(outbox_file, terminal, backoff=FAST) as outbox:
        async with asyncio.timeout(15):
            await outbox.wait_idle()
        sent = await outbox.entries(EntryState.SENT)
    async with Client(fresh_backend.base_url) as staff:
        await staff.login("super01", DEMO_PASSWORD)
        listed = [t async for t in staff.iter_tickets(service_item=MARRIAGE)]
    await terminal.aclose()
    assert first >= 10 and second >= 10
    assert len(sent) == 40 and len(listed) == 40
    assert sorted(e.response["id"] for e in sent) == sorted(t.id for t in listed)
