"""Provides `DeskService`: what the clerk's screens ask of the hall, as plain async methods.

Screens call these from named Textual workers and never see httpx, SQL or the outbox's insides.
The service holds one `WorkbenchSession` (client, outbox, store) per server, the window's
`WorkList`, the catalogue and the expected version of each open case. Ticket actions go straight
to the server (the answer is needed at once); checklist marks and decisions go through the outbox
(decisions held for the undo window), so they survive a lost network.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from api_client.client import Mutation, encode_body, parse_body
from api_client.errors import ApiError, Unauthenticated, Unavailable
from api_client.event_stream import ConnectionState, EventStream, ReconnectPolicy
from api_client.models import (
    Case,
    DecisionRequest,
    ELicence,
    Event,
    MaterialVerification,
    Me,
    ServiceItem,
    Ticket,
    TicketActionRequest,
    WalkIn,
    Window,
)
from api_client.models.cases import CaseStatus
from api_client.models.tickets import TicketAction, TicketStatus
from workbench.credentials import CredentialStore
from workbench.i18n import language, t
from workbench.outbox import EntryState, OutboxEntry, OutboxStatus
from workbench.session import WorkbenchSession
from workbench.settings import WorkbenchSettings
from workbench.worklist import WorkList

__all__ = ["DeskService", "PersonalData", "Revealed"]

ACTIVE = ("called", "serving")
RECALL_GAP_SECONDS = 30.0
WORK_LIST_LIMIT = 2000
"""Waiting tickets loaded into the work list at most (the oldest first; the stream adds more)."""

EventListener = Callable[[Event], None]
StateListener = Callable[[ConnectionState], None]


@dataclass(frozen=True)
class PersonalData:
    """An applicant's unmasked data after an audited reveal."""

    name: str
    id_number: str
    phone: str | None = None


@dataclass(frozen=True)
class Revealed:
    """Which subject was revealed, and what."""

    subject: str
    data: PersonalData


class DeskService:
    """The clerk's desk: log in, work the queue, verify and decide cases."""

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

    # -- the work list and the live stream -----------------------------------------------

    async def load_work_list(self) -> WorkList:
        """Waiting tickets for this window, its own tickets, and the open online cases."""
        client = self.ws.client
        window = self.window
        tickets: list[Ticket] = []
        async for ticket in client.iter_tickets(status="waiting", limit=500):
            if (
                ticket.service_item in self.worklist.service_items
                or not self.worklist.service_items
            ):
                tickets.append(ticket)
            if len(tickets) >= WORK_LIST_LIMIT:
                break
        if window is not None:
            held: tuple[TicketStatus, ...] = ("called", "serving", "parked")
            for held_status in held:
                page = await client.tickets(status=held_status, window=window, limit=500)
                tickets.extend(page.items)
        cases: list[Case] = []
        open_cases = await client.cases(status="submitted", channel="online", limit=500)
        cases.extend(c for c in open_cases.items if c.assignee is None)
        me = self.me
        if me is not None:
            statuses: tuple[CaseStatus, ...] = ("under_review", "supplement_requested", "accepted")
            for case_status in statuses:
                mine = await client.cases(status=case_status, assignee=me.username, limit=200)
                cases.extend(mine.items)
        self.worklist.load(tickets, cases)
        current = next((t for t in tickets if t.window == window and t.status in ACTIVE), None)
        if current is not None and self.current_ticket is None:
            self.ws.store.set_ticket(current)
        return self.worklist

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

    # -- tickets -------------------------------------------------------------------------

    def _remember(self, ticket: Ticket | None) -> Ticket | None:
        if ticket is not None:
            self.worklist.put_ticket(ticket)
            if ticket.window == self.window and ticket.status in (*ACTIVE, "parked"):
                self.ws.store.set_ticket(ticket if ticket.status in ACTIVE else None)
            elif self.current_ticket is not None and self.current_ticket.id == ticket.id:
                self.ws.store.set_ticket(None)
        return ticket

    async def call_next(self) -> Ticket | None:
        window = self._require_window()
        return self._remember(await self.ws.client.call_next(window))

    async def ticket_action(
        self, ticket_id: int, action: TicketAction, body: TicketActionRequest | None = None
    ) -> Ticket:
        ticket = await self.ws.client.ticket_action(ticket_id, action, body)
        self._remember(ticket)
        return ticket

    async def walk_in(self, service_item: str, id_number: str | None = None) -> Ticket:
        window = self._require_window()
        body = WalkIn(service_item=service_item, applicant_id_number=id_number or None)
        ticket = await self.ws.client.walk_in(window, body)
        self._remember(ticket)
        return ticket

    def recall_wait(self, now: datetime | None = None) -> float:
        """Seconds until the current ticket may be recalled (0 when it may now)."""
        ticket = self.current_ticket
        if ticket is None or ticket.status != "called":
            return 0.0
        # the latest announcement, as the server counts it: a ticket called again (after a
        # reactivate or a transfer) keeps the recalled_at of its earlier call
        announced = [at for at in (ticket.called_at, ticket.recalled_at) if at is not None]
        if not announced:
            return 0.0
        last = max(announced)
        elapsed = ((now or self.clock()) - last).total_seconds()
        return max(0.0, RECALL_GAP_SECONDS - elapsed)

    async def pause(self, reason: str) -> Window:
        window = await self.ws.client.pause_window(self._require_window(), reason)
        self.windows[window.code] = window
        return window

    async def resume_window(self) -> Window:
        window = await self.ws.client.resume_window(self._require_window())
        self.windows[window.code] = window
        return window

    @property
    def paused(self) -> bool:
        window = self.windows.get(self.window or "")
        return window is not None and window.state == "paused"

    async def raise_alarm(self, note: str | None) -> bool:
        """Raise the emergency alarm; True when the server has it, False when it is queued."""
        window = self._require_window()
        mutation = Mutation(
            "POST",
            f"/api/v1/windows/{window}/alarm",
            encode_body({"note": note} if note else {}),
            label=f"alarm at {window}",
        )
        try:
            await self.ws.client.send(mutation)
        except Unavailable:
            await self.ws.submit(mutation, hold=False)
            return False
        return True

    async def reveal(self, kind: str, subject_id: int) -> Revealed:
        """Unmask an applicant's personal data (the server logs the reveal as an event)."""
        mutation = Mutation("POST", f"/api/v1/{kind}s/{int(subject_id)}/reveal", label="reveal")
        result = await self.ws.client.send(mutation)
        body: dict[str, Any] = result.body if isinstance(result.body, dict) else {}
        data = PersonalData(
            name=str(body.get("name", "")),
            id_number=str(body.get("id_number", "")),
            phone=body.get("phone"),
        )
        return Revealed(f"{kind}:{subject_id}", data)

    def _require_window(self) -> str:
        if self.window is None:
            raise RuntimeError("this account is not logged in to a window")
        return self.window

    # -- cases ---------------------------------------------------------------------------

    def _remember_case(self, case: Case | None) -> Case | None:
        if case is not None:
            self.case_versions[case.id] = max(case.version, self.case_versions.get(case.id, 0))
            self.worklist.put_case(case)
            self.ws.store.set_case(case)
        return case

    async def claim_case(self) -> Case | None:
        claimed = await self.ws.client.claim_next_case()
        if claimed is None:
            return None
        return self._remember_case(await self.ws.client.case(claimed.id))

    async def open_case(self, case_id: int) -> Case:
        case = await self.ws.client.case(case_id)
        self.case_versions[case.id] = case.version
        self.ws.store.set_case(case)
        return case

    async def verify_material(
        self, case: Case, material: str, verification: MaterialVerification
    ) -> OutboxEntry:
        """Queue one checklist mark (sent at once, kept in the outbox while offline)."""
        version = self.case_versions.get(case.id, case.version)
        mutation = Mutation.verify_material(case.id, material, verification, version=version)
        mutation = replace(mutation, label=_mark_label(case, material, verification.status))
        self.case_versions[case.id] = version + 1
        return await self.ws.submit(mutation, hold=False)

    async def decide(self, case: Case, decision: DecisionRequest) -> OutboxEntry:
        """Queue a decision, held for the undo window before it is sent."""
        version = self.case_versions.get(case.id, case.version)
        mutation = Mutation.decide(case.id, decision, version=version)
        label = t(
            "case_guard.label_decision", what=t(f"decision.{decision.decision}"), number=case.number
        )
        mutation = replace(mutation, label=label)
        self.case_versions[case.id] = version + 1
        entry = await self.ws.submit(mutation, hold=True)
        self.last_held = entry
        self.last_held_kind = decision.decision
        return entry

    async def undo_last(self) -> OutboxEntry | None:
        """Take back the last held decision; the entry when undone, None when too late."""
        entry = self.last_held
        if entry is None:
            return None
        undone = await self.ws.outbox.undo(entry.id)
        self.last_held = None
        if not undone:
            return None
        case_id = _case_of(entry)
        if case_id is not None and case_id in self.case_versions:
            self.case_versions[case_id] -= 1
        return entry

    def held_seconds_left(self, now: float) -> float:
        entry = self.last_held
        if entry is None:
            return 0.0
        return max(0.0, entry.not_before - now)

    async def notice(self, case_id: int, notice_id: int, *, pdf: bool) -> bytes:
        return await self.ws.client.notice(case_id, notice_id, pdf=pdf)

    async def e_licences(self, holder: str) -> list[ELicence]:
        return list((await self.ws.client.e_licences(holder)).items)

    # -- the outbox ----------------------------------------------------------------------

    async def outbox_entries(self) -> list[OutboxEntry]:
        pending = await self.ws.outbox.entries(EntryState.PENDING)
        conflicts = await self.ws.outbox.entries(EntryState.CONFLICT)
        return conflicts + pending

    async def discard(self, entry_id: int) -> bool:
        return await self.ws.outbox.discard(entry_id)

    async def retry(self, entry: OutboxEntry) -> bool:
        """Send a conflict again on the server's current version (when it told us one)."""
        current = entry.current or {}
        version = current.get("version")
        base = int(version) if isinstance(version, int) else entry.base_version
        case_id = _case_of(entry)
        if case_id is not None and base is not None:
            self.case_versions[case_id] = base + 1
        return await self.ws.outbox.retry(entry.id, base_version=base)

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


def _mark_label(case: Case, material: str, status: str) -> str:
    """What the outbox calls a checklist mark: the material's name and the case number (the
    language of the moment; the label is kept with the entry)."""
    row = next((r for r in case.checklist or [] if r.material == material), None)
    name = (row.name if language() == "zh" else row.name_en) if row is not None else material
    return t(
        "case_guard.label_mark", material=name, status=t(f"material.{status}"), number=case.number
    )


def _case_of(entry: OutboxEntry) -> int | None:
    key = entry.ordering_key or ""
    if key.startswith("case:") and key[5:].isdigit():
        return int(key[5:])
    return None


# the last login (user name and window only; the token stays in the keyring) lives in
# workbench.last_login, which the login screen reads before this module is loaded
