"""Provides `DeskService`: what the clerk's screens ask of the hall, as plain async methods.

Logging in, the caches and the live stream are its base, `DeskSession` (`workbench.desk_session`).
Screens call these from named Textual workers and never see httpx, SQL or the outbox's insides.
The service holds one `WorkbenchSession` (client, outbox, store) per server, the window's
`WorkList`, the catalogue and the expected version of each open case. Ticket actions go straight
to the server (the answer is needed at once); checklist marks and decisions go through the outbox
(decisions held for the undo window), so they survive a lost network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from api_client.errors import Unavailable
from api_client.models import (
    Case,
    DecisionRequest,
    ELicence,
    MaterialVerification,
    Ticket,
    TicketActionRequest,
    WalkIn,
    Window,
)
from api_client.models.alarms import AlarmRaise
from api_client.models.cases import CaseStatus
from api_client.models.catalogue import PauseRequest
from api_client.models.tickets import AT_WINDOW_STATUSES, HELD_STATUSES, TicketAction, TicketStatus
from api_client.mutations import Mutation, encode_body
from workbench.desk_session import DeskSession
from workbench.field_limits import cut_to_field
from workbench.i18n import language, t
from workbench.outbox import EntryState, OutboxEntry
from workbench.worklist import WorkList

__all__ = ["DeskService", "PersonalData", "Revealed", "Sent"]

T = TypeVar("T")

RECALL_GAP_SECONDS = 30.0
WORK_LIST_LIMIT = 2000
"""Waiting tickets loaded into the work list at most (the oldest first; the stream adds more)."""


@dataclass(frozen=True)
class PersonalData:
    """An applicant's unmasked data after an audited reveal."""

    name: str
    id_number: str
    phone: str | None = None


@dataclass(frozen=True)
class Sent(Generic[T]):
    """What a write returned, and the part of the clerk's text cut to fit ("" if none)."""

    result: T
    cut: str


def _full(window: str, text: str, what: str = "pause") -> str:
    """An outbox label that keeps the full text the clerk typed."""
    return f"{what} at {window} — full text: {text.strip()}"


@dataclass(frozen=True)
class Revealed:
    """Which subject was revealed, and what."""

    subject: str
    data: PersonalData


class DeskService(DeskSession):
    """The clerk's desk: log in, work the queue, verify and decide cases."""

    # -- the work list -----------------------------------------------

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
        current = next(
            (t for t in tickets if t.window == window and t.status in AT_WINDOW_STATUSES), None
        )
        if current is not None and self.current_ticket is None:
            self.ws.store.set_ticket(current)
        return self.worklist

    # -- tickets -------------------------------------------------------------------------

    def _remember(self, ticket: Ticket | None) -> Ticket | None:
        if ticket is not None:
            self.worklist.put_ticket(ticket)
            if ticket.window == self.window and ticket.status in HELD_STATUSES:
                self.ws.store.set_ticket(ticket if ticket.status in AT_WINDOW_STATUSES else None)
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

    async def pause(self, reason: str) -> Sent[Window]:
        """Pause the window; a reason longer than the server takes goes cut (the full text is
        kept in the outbox's record), and `cut` says what was left out."""
        code = self._require_window()
        short, cut = cut_to_field(PauseRequest, "reason", reason)
        window = await self.ws.client.pause_window(code, short)
        self.windows[window.code] = window
        if cut:
            mutation = replace(Mutation.pause_window(code, short), label=_full(code, reason))
            await self.ws.outbox.record_sent(mutation, 200)
        return Sent(window, cut)

    async def resume_window(self) -> Window:
        window = await self.ws.client.resume_window(self._require_window())
        self.windows[window.code] = window
        return window

    @property
    def paused(self) -> bool:
        window = self.windows.get(self.window or "")
        return window is not None and window.state == "paused"

    async def raise_alarm(self, note: str | None) -> Sent[bool]:
        """Raise the emergency alarm: True when the server has it, False when it is queued.

        The alarm is never lost to a long note: the note goes cut to what the server takes,
        its full text is kept in the outbox's record, and `cut` says what was left out."""
        window = self._require_window()
        short, cut = cut_to_field(AlarmRaise, "note", note or "")
        mutation = Mutation(
            "POST",
            f"/api/v1/windows/{window}/alarm",
            encode_body({"note": short} if short else {}),
            label=_full(window, note or "", "alarm") if cut else f"alarm at {window}",
        )
        try:
            await self.ws.client.send(mutation)
        except Unavailable:
            await self.ws.submit(mutation, hold=False)
            return Sent(False, cut)
        if cut:
            await self.ws.outbox.record_sent(mutation, 201)
        return Sent(True, cut)

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

    async def decide(
        self, case: Case, decision: DecisionRequest, *, version: int | None = None
    ) -> OutboxEntry:
        """Queue a decision, held for the undo window before it is sent; `version` is the one
        the clerk saw (a notice preview's), so a case changed since is refused, not decided."""
        if version is None:
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
