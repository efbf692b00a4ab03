"""Provides `WorkbenchSession`: the client, outbox, event stream and store wired together.

Screens hold one session: they log in through it, send changes through its outbox and read
everything from its store. The token goes to the keyring (or memory), never to a file.
"""

from __future__ import annotations

import asyncio
import contextlib

from api_client.client import Client
from api_client.errors import ApiError, Unauthenticated
from api_client.event_stream import ConnectionState, EventStream, ReconnectPolicy
from api_client.models import LoginResponse
from api_client.mutations import Mutation
from workbench.credentials import CredentialStore
from workbench.outbox import Outbox, OutboxEntry
from workbench.settings import WorkbenchSettings
from workbench.store import Store

__all__ = ["WorkbenchSession"]


class WorkbenchSession:
    """One workstation's connection to the hall: use `async with WorkbenchSession(s) as ws`."""

    def __init__(
        self,
        settings: WorkbenchSettings,
        *,
        credentials: CredentialStore | None = None,
        client: Client | None = None,
        stream_policy: ReconnectPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials or CredentialStore(memory_only=not settings.keyring)
        self.client = client or Client(settings.server_url, ca_file=settings.ca_file)
        self.store = Store()
        self.outbox = Outbox(
            settings.outbox_path,
            self.client,
            undo_seconds=settings.undo_seconds,
            on_sent=self.store.apply_result,
        )
        self.outbox.add_listener(self.store.set_outbox)
        self._stream_policy = stream_policy
        self._stream: EventStream | None = None
        self._stream_task: asyncio.Task[None] | None = None

    def _account(self, username: str) -> str:
        return f"{self.settings.server_url}|{username}"

    async def __aenter__(self) -> WorkbenchSession:
        await self.outbox.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.stop_live()
        await self.outbox.aclose()
        await self.client.aclose()

    async def login(self, username: str, password: str, window: str | None = None) -> LoginResponse:
        """Log in, keep the token in the keyring and let the outbox send this user's changes."""
        answer = await self.client.login(username, password, window)
        await self.credentials.aset(self._account(username), answer.token)
        self.store.set_session(answer)
        self.outbox.set_owner(username)
        await self._load_window_items()
        return answer

    async def resume(self, username: str) -> bool:
        """Reuse a token kept from an earlier run; False when there is none or it is dead."""
        token = await self.credentials.aget(self._account(username))
        if token is None:
            return False
        self.client.token = token
        try:
            me = await self.client.me()
        except Unauthenticated:
            await self.credentials.adelete(self._account(username))
            self.client.token = None
            return False
        self.store.set_session(me)
        self.outbox.set_owner(username)
        await self._load_window_items()
        return True

    async def logout(self) -> None:
        me = self.store.snapshot.me
        with contextlib.suppress(ApiError):
            await self.client.logout()
        if me is not None:
            await self.credentials.adelete(self._account(me.username))
        await self.stop_live()
        self.store.set_session(None)

    async def _load_window_items(self) -> None:
        window = self.store.snapshot.window
        if window is None:
            return
        windows = await self.client.windows()
        for item in windows.items:
            if item.code == window:
                self.store.set_service_items(item.service_items)

    async def submit(self, mutation: Mutation, *, hold: bool = True) -> OutboxEntry:
        """Send a change through the outbox (held for the undo window when `hold`)."""
        return await self.outbox.enqueue(mutation, hold=hold)

    def start_live(self, after: int | None = None) -> EventStream:
        """Follow the event stream into the store; reconnection also wakes the outbox."""
        if self._stream is None:
            self._stream = EventStream(
                self.client,
                after=after,
                policy=self._stream_policy,
                on_state=self._connection_changed,
            )
            self._stream_task = asyncio.create_task(self._follow(self._stream), name="events")
        return self._stream

    async def stop_live(self) -> None:
        stream, task = self._stream, self._stream_task
        self._stream, self._stream_task = None, None
        if stream is not None:
            await stream.aclose()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ApiError):
                await task

    async def _follow(self, stream: EventStream) -> None:
        async for event in stream:
            self.store.apply_event(event)

    def _connection_changed(self, state: ConnectionState) -> None:
        self.store.set_connection(state)
        if state is ConnectionState.CONNECTED:
            self.outbox.kick()
