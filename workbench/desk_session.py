"""Provides `DeskSession`, the base of `DeskService`: logging in and out, the caches of the hall
(service items, windows, case versions) and the live event stream that keeps them current."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api_client.errors import ApiError, Unauthenticated
from api_client.event_stream import ConnectionState, EventStream, ReconnectPolicy
from api_client.models import Case, Event, Me, ServiceItem, Ticket, Window
from api_client.transport import parse_body
from workbench.credentials import CredentialStore
from workbench.outbox import OutboxEntry, OutboxStatus
from workbench.session import WorkbenchSession
from workbench.settings import WorkbenchSettings
from workbench.worklist import WorkList

__all__ = ["DeskSession", "EventListener", "StateListener"]

EventListener = Callable[[Event], None]
StateListener = Callable[[ConnectionState], None]


class DeskSession:
    """The desk's session: who is logged in where, the caches of the hall, the live stream."""

    def __init__(
        self,
        settings: WorkbenchSettings,
        *,
        credentials: CredentialStore | None = None,
        stream_policy: ReconnectPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials or CredentialStore(memory_only=not settings.keyring)
        self.stream_policy = stream_policy
        self.session: WorkbenchSession | None = None
        self.worklist = WorkList()
        self.service_items: dict[str, ServiceItem] = {}
        self.windows: dict[str, Window] = {}
        self.case_versions: dict[int, int] = {}
        self.last_held: OutboxEntry | None = None
        self.last_held_kind = ""
        self.stream: EventStream | None = None
        self.connection = ConnectionState.CONNECTING
        self._state_listeners: list[StateListener] = []
        self._password: tuple[bytes, bytes] | None = None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """The time the screens show (tests fix it)."""

    # -- session -------------------------------------------------------------------------

    @property
    def ws(self) -> WorkbenchSession:
        if self.session is None:
            raise RuntimeError("not connected: log in first")
        return self.session

    @property
    def me(self) -> Me | None:
        return self.session.store.snapshot.me if self.session is not None else None

    @property
    def window(self) -> str | None:
        return self.me.window if self.me is not None else None

    @property
    def current_ticket(self) -> Ticket | None:
        return self.session.store.snapshot.current_ticket if self.session else None

    @property
    def outbox_status(self) -> OutboxStatus:
        return self.session.store.snapshot.outbox if self.session else OutboxStatus()

    async def connect(self, server_url: str) -> WorkbenchSession:
        """A session for this server (the old one is closed when the server changes)."""
        url = server_url.strip().rstrip("/")
        if self.session is not None and self.session.settings.server_url == url:
            return self.session
        await self.close()
        settings = self.settings.model_copy(update={"server_url": url})
        session = WorkbenchSession(
            settings, credentials=self.credentials, stream_policy=self.stream_policy
        )
        await session.outbox.start()
        session.outbox.add_sent_listener(self._sent)
        self.session = session
        return session

    async def close(self) -> None:
        await self.stop_live()
        session, self.session = self.session, None
        if session is not None:
            await session.aclose()

    async def login(self, server_url: str, username: str, password: str, window: str | None) -> Me:
        session = await self.connect(server_url)
        answer = await session.login(username, password, window or None)
        self._remember_password(password)
        await self._after_login()
        return answer.me

    async def resume(self, server_url: str, username: str) -> Me | None:
        """Reuse the token of an earlier run (from the keyring); None when there is none."""
        session = await self.connect(server_url)
        if not await session.resume(username):
            return None
        await self._after_login()
        return self.me

    def _remember_password(self, password: str) -> None:
        salt = os.urandom(16)
        self._password = (salt, _hash_password(password, salt))

    def check_password(self, password: str) -> bool:
        """Whether `password` is the one typed at login (for the idle lock; works offline)."""
        if self._password is None:
            return False
        salt, digest = self._password
        return hmac.compare_digest(digest, _hash_password(password, salt))

    async def verify_password(self, password: str) -> bool:
        """Check the password locally, or (after a resumed session) by logging in again."""
        if self._password is not None:
            return self.check_password(password)
        me = self.me
        if me is None:
            return False
        try:
            answer = await self.ws.client.login(me.username, password, me.window)
        except Unauthenticated:
            return False
        await self.credentials.aset(f"{self.ws.settings.server_url}|{me.username}", answer.token)
        self._remember_password(password)
        return True

    async def has_saved_session(self, server_url: str, username: str) -> bool:
        account = f"{server_url.rstrip('/')}|{username}"
        return await self.credentials.aget(account) is not None

    async def logout(self) -> None:
        if self.session is not None:
            await self.stop_live()
            await self.session.logout()

    async def _after_login(self) -> None:
        me = self.me
        assert me is not None
        items, windows = await asyncio.gather(
            self.ws.client.service_items(), self.ws.client.windows()
        )
        self.service_items = {item.code: item for item in items.items}
        self.windows = {w.code: w for w in windows.items}
        served = self.windows[me.window].service_items if me.window in self.windows else []
        self.worklist.configure(window=me.window, username=me.username, items=served)

    # -- the live stream ---------------------------------------------------------------

    def add_state_listener(self, listener: StateListener) -> None:
        self._state_listeners.append(listener)

    def _state_changed(self, state: ConnectionState) -> None:
        self.connection = state
        if self.session is not None:
            self.session.store.set_connection(state)
            if state is ConnectionState.CONNECTED:
                self.session.outbox.kick()
        for listener in list(self._state_listeners):
            listener(state)

    async def follow(self, on_event: EventListener) -> None:
        """Read the event stream until stopped, folding events into the list and the store."""
        stream = EventStream(
            self.ws.client, policy=self.stream_policy, on_state=self._state_changed
        )
        self.stream = stream
        try:
            async for event in stream:
                self.ws.store.apply_event(event)
                self.worklist.apply_event(event)
                on_event(event)
        finally:
            if self.stream is stream:
                self.stream = None

    async def stop_live(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            await stream.aclose()

    def _require_window(self) -> str:
        if self.window is None:
            raise RuntimeError("this account is not logged in to a window")
        return self.window

    def _sent(self, entry: Any, result: Any) -> None:
        body = getattr(result, "body", None)
        if isinstance(body, dict):
            case_body = body.get("case", body)
            if isinstance(case_body, dict) and "checklist" in case_body:
                with contextlib.suppress(ApiError):
                    case = parse_body(Case, case_body)
                    self.case_versions[case.id] = max(
                        case.version, self.case_versions.get(case.id, 0)
                    )
                    self.worklist.put_case(case)


def _hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**12, r=8, p=1)
