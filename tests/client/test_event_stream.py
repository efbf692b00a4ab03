"""The live event stream against the real backend: order, resume, drops, states and errors.

Connections are dropped for real by a small TCP proxy between the client and the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from api_client import Client, ConnectionState, EventStream, ReconnectPolicy
from api_client.errors import Unauthenticated
from api_client.models import Event, TicketIssue
from backend.hall.seed import DEMO_PASSWORD
from backend.server.embedded import free_port
from tests.conftest import Backend

QUICK = ReconnectPolicy(initial=0.01, max_delay=0.05, jitter=0.0, offline_after=3)


class TcpProxy:
    """Forwards 127.0.0.1:port to the backend; `cut()` drops every open connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.cut()

    def cut(self) -> int:
        """Close every live connection; returns how many there were (pairs of sockets)."""
        open_now = len(self._writers) // 2
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self.cuts += open_now > 0
        return open_now

    async def aclose(self) -> None:
        await self.stop_listening()
        for task in list(self._tasks):
            task.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()
        self._writers.discard(sink)


@pytest.fixture
async def proxy(fresh_backend: Backend) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(fresh_backend.server.port)
    await proxy.start()
    yield proxy
    await proxy.aclose()


async def login(base_url: str, username: str) -> Client:
    client = Client(base_url)
    await client.login(username, DEMO_PASSWORD)
    return client


async def reach(stream: EventStream, state: ConnectionState) -> None:
    async for current in stream.states():
        if current is state:
            return


async def collect(stream: EventStream, until_seq: int, into: list[Event]) -> None:
    async for event in stream:
        into.append(event)
        if event.seq >= until_seq:
            return


async def test_streams_from_after_in_order(fresh_backend: Backend) -> None:
    async with (
        await login(fresh_backend.base_url, "super01") as staff,
        await login(fresh_backend.base_url, "terminal01") as terminal,
    ):
        tickets = [
            await terminal.issue_ticket(TicketIssue(service_item="MZ-001")) for _ in range(3)
        ]
        stream = EventStream(staff, after=0, policy=QUICK)
        seen: list[Event] = []
        async with asyncio.timeout(10):
            async for event in stream:
                seen.append(event)
                if event.type == "ticket.issued" and event.subject_id == str(tickets[-1].id):
                    break
        await stream.aclose()
    seqs = [e.seq for e in seen]
    assert seqs == sorted(set(seqs)) and seqs[0] >= 1
    issued = [int(e.subject_id) for e in seen if e.type == "ticket.issued"]
    assert issued == [t.id for t in tickets]
    assert stream.retry_delay == 2.0 and stream.state is ConnectionState.CLOSED


async def test_twenty_drops_lose_and_double_nothing(
    fresh_backend: Backend, proxy: TcpProxy
) -> None:
    """The writer keeps issuing tickets while the proxy cuts the stream 20 times."""
    async with (
        await login(fresh_backend.base_url, "super01") as staff,
        await login(f"http://127.0.0.1:{proxy.port}", "super01") as via_proxy,
        await login(fresh_backend.base_url, "terminal01") as terminal,
    ):
        stream = EventStream(via_proxy, after=0, policy=QUICK)
        received: list[Event] = []
        issued: list[int] = []

        arrived = asyncio.Event()

        async def consume() -> None:
            async for event in stream:
                received.append(event)
                arrived.set()

        async def write() -> None:
            while proxy.cuts < 20:
                ticket = await terminal.issue_ticket(TicketIssue(service_item="MZ-001"))
                issued.append(ticket.id)
                await asyncio.sleep(0.01)

        async def cut() -> None:
            while proxy.cuts < 20:
                await asyncio.sleep(0.06)
                if stream.state is ConnectionState.CONNECTED and received:
                    proxy.cut()

        consumer = asyncio.create_task(consume())
        async with asyncio.timeout(30):
            await asyncio.gather(write(), cut())
            # one more after the last cut, so the stream must reconnect to see it
            final = await terminal.issue_ticket(TicketIssue(service_item="MZ-001"))
            issued.append(final.id)
            last_ticket = str(final.id)
            while not any(e.subject_id == last_ticket for e in received[-20:]):
                arrived.clear()
                await arrived.wait()
        await stream.aclose()
        consumer.cancel()
        reference: list[Event] = []
        clean = EventStream(staff, after=0, policy=QUICK)
        async with asyncio.timeout(10):
            await collect(clean, received[-1].seq, reference)
        await clean.aclose()
    assert proxy.cuts == 20 and stream.reconnects >= 20
    assert [e.seq for e in received] == [e.seq for e in reference]
    got = [int(e.subject_id) for e in received if e.type == "ticket.issued"]
    assert got == issued and len(issued) > 20


async def test_reconnect_waits_the_servers_retry_time(
    fresh_backend: Backend, proxy: TcpProxy
) -> None:
    async with await login(f"http://127.0.0.1:{proxy.port}", "super01") as api:
        stream = EventStream(api, after=0, policy=ReconnectPolicy(initial=0.01, jitter=0.0))
        connected: list[float] = []
        stream.add_listener(
            lambda s: connected.append(time.monotonic()) if s is ConnectionState.CONNECTED else None
        )
        consumer = asyncio.create_task(_drain(stream))
        async with asyncio.timeout(10):
            await reach(stream, ConnectionState.CONNECTED)
            await asyncio.sleep(0.1)
            dropped = time.monotonic()
            proxy.cut()
            await reach(stream, ConnectionState.RECONNECTING)
            await reach(stream, ConnectionState.CONNECTED)
        await stream.aclose()
        consumer.cancel()
    assert stream.retry_delay == 2.0
    assert 1.9 <= connected[1] - dropped < 3.5


async def _drain(stream: EventStream) -> None:
    async for _ in stream:
        pass


async def test_states_reconnecting_offline_connected(
    fresh_backend: Backend, proxy: TcpProxy
) -> None:
    async with await login(f"http://127.0.0.1:{proxy.port}", "super01") as api:
        stream = EventStream(api, after=0, policy=QUICK)
        states: list[ConnectionState] = []

        async def watch() -> None:
            async for state in stream.states():
                states.append(state)

        watcher = asyncio.create_task(watch())
        consumer = asyncio.create_task(_drain(stream))
        async with asyncio.timeout(10):
            await reach(stream, ConnectionState.CONNECTED)
            await proxy.stop_listening()
            await reach(stream, ConnectionState.OFFLINE)
            await proxy.start()
            await reach(stream, ConnectionState.CONNECTED)
        await stream.aclose()
        consumer.cancel()
        async with asyncio.timeout(2):
            await watcher
    assert states[:2] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    assert states[2:] == [
        ConnectionState.RECONNECTING,
        ConnectionState.OFFLINE,
        ConnectionState.CONNECTED,
        ConnectionState.CLOSED,
    ]


async def test_a_bad_token_ends_the_stream_with_a_typed_error(backend: Backend) -> None:
    async with Client(backend.base_url, token="not-a-token") as api:
        stream = EventStream(api, policy=QUICK)
        with pytest.raises(Unauthenticated):
            async with asyncio.timeout(5):
                await _drain(stream)
    assert stream.state is ConnectionState.CLOSED or stream.state is ConnectionState.OFFLINE
