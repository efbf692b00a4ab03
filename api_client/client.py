"""Provides `Client`: the typed async client of the Service Workbench API.

One typed method per endpoint on top of `Transport` (one `httpx.AsyncClient`, explicit timeouts,
answers parsed into the contract models, every failure an `api_client.errors.ApiError`). Reads
and writes that carry an `Idempotency-Key` are retried a few times with jittered backoff; nothing
else is. Writes are described by `Mutation` values, so the workbench's offline outbox can store
them and send them later through `Client.send`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, Literal
from urllib.parse import quote

from api_client.models import (
    Case,
    CaseIntake,
    CaseList,
    DecisionRequest,
    DecisionResult,
    ELicenceList,
    LoginResponse,
    MaterialVerification,
    Me,
    NoticeDecision,
    NoticePreview,
    ServiceItemList,
    Ticket,
    TicketActionRequest,
    TicketIssue,
    TicketList,
    WalkIn,
    Window,
    WindowList,
)
from api_client.models.alarms import Alarm, AlarmList, PersonalData
from api_client.models.board import Board
from api_client.models.cases import CaseStatus, Channel
from api_client.models.display import DisplayBoard
from api_client.models.merges import (
    HallCaseOpen,
    MergeCandidateList,
    MergeList,
    MergePreview,
    MergeRecord,
    MergeRequest,
    MergeResult,
)
from api_client.models.ratings import FollowUpResponseBody, Rating, RatingList, RatingSubmission
from api_client.models.tickets import TicketAction, TicketStatus
from api_client.mutations import Mutation, encode_body
from api_client.transport import (
    Transport,
    json_or_none,
    parse_response,
)

__all__ = ["Client"]


class Client(Transport):
    """The API, one typed method per endpoint. Use as `async with Client(url) as api: ...`."""

    # -- auth ----------------------------------------------------------------------------

    async def login(self, username: str, password: str, window: str | None = None) -> LoginResponse:
        """Log in (a clerk names the window); the client keeps the token for later calls."""
        body: dict[str, Any] = {"username": username, "password": password}
        if window:
            body["window"] = window
        response = await self._request(
            "POST", "/api/v1/auth/login", retry=False, content=json.dumps(body)
        )
        answer = parse_response(LoginResponse, response)
        self.token = answer.token
        return answer

    async def logout(self) -> None:
        """End the session on the server and forget the token."""
        try:
            await self._request("POST", "/api/v1/auth/logout", retry=False)
        finally:
            self.token = None

    async def me(self) -> Me:
        return await self._get(Me, "/api/v1/me")

    # -- catalogue -----------------------------------------------------------------------

    async def service_items(self) -> ServiceItemList:
        return await self._get(ServiceItemList, "/api/v1/service-items")

    async def windows(self) -> WindowList:
        return await self._get(WindowList, "/api/v1/windows")

    async def pause_window(
        self, window: str, reason: str, *, idempotency_key: str | None = None
    ) -> Window:
        return await self._mutate_one(
            Window, Mutation.pause_window(window, reason), idempotency_key
        )

    async def resume_window(self, window: str, *, idempotency_key: str | None = None) -> Window:
        return await self._mutate_one(Window, Mutation.resume_window(window), idempotency_key)

    # -- tickets -------------------------------------------------------------------------

    async def issue_ticket(
        self, issue: TicketIssue, *, idempotency_key: str | None = None
    ) -> Ticket:
        return await self._mutate_one(Ticket, Mutation.issue_ticket(issue), idempotency_key)

    async def tickets(
        self,
        *,
        status: TicketStatus | None = None,
        window: str | None = None,
        service_item: str | None = None,
        day: date | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> TicketList:
        return await self._get(
            TicketList,
            "/api/v1/tickets",
            status=status,
            window=window,
            service_item=service_item,
            day=day,
            cursor=cursor,
            limit=limit,
        )

    async def iter_tickets(self, **filters: Any) -> AsyncIterator[Ticket]:
        """Every ticket matching the filters of `tickets`, page after page."""
        cursor: str | None = None
        while True:
            page = await self.tickets(cursor=cursor, **filters)
            for ticket in page.items:
                yield ticket
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def ticket(self, ticket_id: int) -> Ticket:
        return await self._get(Ticket, f"/api/v1/tickets/{int(ticket_id)}")

    async def call_next(self, window: str, *, idempotency_key: str | None = None) -> Ticket | None:
        """The next ticket for the window, or None when nobody waits (204)."""
        return await self._mutate(Ticket, Mutation.call_next(window), idempotency_key)

    async def walk_in(
        self, window: str, body: WalkIn, *, idempotency_key: str | None = None
    ) -> Ticket:
        return await self._mutate_one(Ticket, Mutation.walk_in(window, body), idempotency_key)

    async def ticket_action(
        self,
        ticket_id: int,
        action: TicketAction,
        body: TicketActionRequest | None = None,
        *,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Ticket:
        """Apply a ticket action; `version` is sent as If-Match (stale: PreconditionFailed)."""
        mutation = Mutation.ticket_action(ticket_id, action, body, version=version)
        return await self._mutate_one(Ticket, mutation, idempotency_key)

    # -- cases ---------------------------------------------------------------------------

    async def create_case(self, intake: CaseIntake, *, idempotency_key: str | None = None) -> Case:
        return await self._mutate_one(Case, Mutation.create_case(intake), idempotency_key)

    async def cases(
        self,
        *,
        status: CaseStatus | None = None,
        channel: Channel | None = None,
        service_item: str | None = None,
        assignee: str | None = None,
        applicant_id: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> CaseList:
        return await self._get(
            CaseList,
            "/api/v1/cases",
            status=status,
            channel=channel,
            service_item=service_item,
            assignee=assignee,
            applicant_id=applicant_id,
            cursor=cursor,
            limit=limit,
        )

    async def iter_cases(self, **filters: Any) -> AsyncIterator[Case]:
        """Every case matching the filters of `cases`, page after page."""
        cursor: str | None = None
        while True:
            page = await self.cases(cursor=cursor, **filters)
            for case in page.items:
                yield case
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def case(self, case_id: int) -> Case:
        return await self._get(Case, f"/api/v1/cases/{int(case_id)}")

    async def claim_next_case(self, *, idempotency_key: str | None = None) -> Case | None:
        """The next unassigned online case, now ours, or None when none waits (204)."""
        return await self._mutate(Case, Mutation.claim_next_case(), idempotency_key)

    async def verify_material(
        self,
        case_id: int,
        material: str,
        body: MaterialVerification,
        *,
        version: int,
        idempotency_key: str | None = None,
    ) -> Case:
        """Record one material's check; `version` is the case version seen (If-Match)."""
        mutation = Mutation.verify_material(case_id, material, body, version=version)
        return await self._mutate_one(Case, mutation, idempotency_key)

    async def decide(
        self,
        case_id: int,
        decision: DecisionRequest,
        *,
        version: int,
        idempotency_key: str | None = None,
    ) -> DecisionResult:
        """Decide on a case (accept, supplement, reject, approve, transfer, withdraw …)."""
        mutation = Mutation.decide(case_id, decision, version=version)
        return await self._mutate_one(DecisionResult, mutation, idempotency_key)

    async def notice(self, case_id: int, notice_id: int, *, pdf: bool = True) -> bytes:
        """A notice of the case, as PDF or as plain text."""
        suffix = "pdf" if pdf else "txt"
        response = await self._request(
            "GET",
            f"/api/v1/cases/{int(case_id)}/notices/{int(notice_id)}.{suffix}",
            retry=True,
            headers={"Accept": "application/pdf" if pdf else "text/plain"},
        )
        return response.content

    async def notice_preview(self, case_id: int, decision: NoticeDecision) -> NoticePreview:
        """The notice `decision` would issue on the case now, as text, without deciding (it is
        refused as the decision would be). Decide with `version=preview.case_version`: the
        notice issued is then this one, or the decision is refused because the case changed."""
        response = await self._request(
            "POST",
            f"/api/v1/cases/{int(case_id)}/notice-preview",
            retry=True,
            content=encode_body(decision),
        )
        return parse_response(NoticePreview, response)

    async def e_licences(self, holder: str, *, type: str | None = None) -> ELicenceList:
        """The e-licences of one holder (resident ID or credit code), usable today or not."""
        return await self._get(ELicenceList, "/api/v1/e-licences", holder=holder, type=type)

    # -- alarms and personal data --------------------------------------------------------

    async def raise_alarm(
        self, window: str, note: str | None = None, *, idempotency_key: str | None = None
    ) -> Alarm:
        return await self._mutate_one(Alarm, Mutation.raise_alarm(window, note), idempotency_key)

    async def acknowledge_alarm(
        self, alarm_id: int, *, idempotency_key: str | None = None
    ) -> Alarm:
        return await self._mutate_one(Alarm, Mutation.acknowledge_alarm(alarm_id), idempotency_key)

    async def alarms(self, *, open_only: bool = False) -> AlarmList:
        return await self._get(AlarmList, "/api/v1/alarms", open=open_only)

    async def board(self) -> Board:
        """The supervisor board's snapshot; continue the event stream from its `seq`."""
        return await self._get(Board, "/api/v1/board")

    async def display(self, *, hall: str | None = None, limit: int = 8) -> DisplayBoard:
        """The hall call display's snapshot (numbers, windows, counts; no personal data)."""
        return await self._get(DisplayBoard, "/api/v1/display", hall=hall, limit=limit)

    @staticmethod
    def display_events_path(hall: str | None = None) -> str:
        """The display's event stream, for `EventStream(client, path=...)`."""
        suffix = f"?hall={quote(hall, safe='')}" if hall else ""
        return f"/api/v1/display/events{suffix}"

    async def reveal(
        self,
        subject: Literal["case", "ticket"],
        subject_id: int,
        *,
        idempotency_key: str | None = None,
    ) -> PersonalData:
        """The applicant's unmasked data; the server records the reveal as an event."""
        return await self._mutate_one(
            PersonalData, Mutation.reveal(subject, subject_id), idempotency_key
        )

    # -- ratings -------------------------------------------------------------------------

    async def rate(self, rating: RatingSubmission, *, idempotency_key: str | None = None) -> Rating:
        return await self._mutate_one(Rating, Mutation.rate(rating), idempotency_key)

    async def ratings(self, **filters: Any) -> RatingList:
        return await self._get(RatingList, "/api/v1/ratings", **filters)

    async def respond_to_rating(
        self, rating_id: int, body: FollowUpResponseBody, *, idempotency_key: str | None = None
    ) -> Rating:
        return await self._mutate_one(
            Rating, Mutation.respond_to_rating(rating_id, body), idempotency_key
        )

    # -- merges --------------------------------------------------------------------------

    async def open_hall_case(
        self, ticket_id: int, body: HallCaseOpen, *, idempotency_key: str | None = None
    ) -> Case:
        return await self._mutate_one(
            Case, Mutation.open_hall_case(ticket_id, body), idempotency_key
        )

    async def merge_candidates(self, case_id: int) -> MergeCandidateList:
        return await self._get(MergeCandidateList, f"/api/v1/cases/{int(case_id)}/merge-candidates")

    async def ticket_merge_candidates(self, ticket_id: int) -> MergeCandidateList:
        path = f"/api/v1/tickets/{int(ticket_id)}/merge-candidates"
        return await self._get(MergeCandidateList, path)

    async def merge_preview(
        self, case_id: int, other: int, *, survivor: Literal["this", "other"] = "this"
    ) -> MergePreview:
        path = f"/api/v1/cases/{int(case_id)}/merge-preview"
        return await self._get(MergePreview, path, other=other, survivor=survivor)

    async def merge(
        self,
        case_id: int,
        request: MergeRequest,
        *,
        version: int,
        idempotency_key: str | None = None,
    ) -> MergeResult:
        mutation = Mutation.merge(case_id, request, version=version)
        return await self._mutate_one(MergeResult, mutation, idempotency_key)

    async def unmerge(
        self, merge_id: int, note: str | None = None, *, idempotency_key: str | None = None
    ) -> MergeResult:
        return await self._mutate_one(
            MergeResult, Mutation.unmerge(merge_id, note), idempotency_key
        )

    async def case_merges(self, case_id: int) -> MergeList:
        """Every merge the case took part in, undone ones too (its merge history)."""
        return await self._get(MergeList, f"/api/v1/cases/{int(case_id)}/merges")

    async def merge_record(self, merge_id: int) -> MergeRecord:
        return await self._get(MergeRecord, f"/api/v1/merges/{int(merge_id)}")

    # -- operations ----------------------------------------------------------------------

    async def healthz(self) -> dict[str, Any]:
        response = await self._request("GET", "/healthz", retry=True)
        return dict(json_or_none(response) or {})

    async def readyz(self) -> dict[str, Any]:
        response = await self._request("GET", "/readyz", retry=True)
        return dict(json_or_none(response) or {})
