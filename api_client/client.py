"""Provides `Client`: the typed async client of the Service Workbench API.

One `httpx.AsyncClient` under it, explicit timeouts on every call, answers parsed into the
contract models, and every failure raised as an `api_client.errors.ApiError`. Reads and writes
that carry an `Idempotency-Key` are retried a few times with jittered backoff (stamina); nothing
else is. Writes are described by `Mutation` values, so the workbench's offline outbox can store
them and send them later through `Client.send`.
"""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import certifi
import httpx
import stamina
from pydantic import BaseModel, ValidationError

from api_client.errors import (
    ApiError,
    InvalidResponse,
    RateLimited,
    error_from_response,
    error_from_transport,
)
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
    ServiceItemList,
    Ticket,
    TicketActionRequest,
    TicketIssue,
    TicketList,
    WalkIn,
    Window,
    WindowList,
)
from api_client.models.alarms import Alarm, AlarmList, AlarmRaise, PersonalData
from api_client.models.board import Board
from api_client.models.cases import CaseStatus, Channel
from api_client.models.catalogue import PauseRequest
from api_client.models.display import DisplayBoard
from api_client.models.merges import (
    HallCaseOpen,
    MergeCandidateList,
    MergeList,
    MergePreview,
    MergeRecord,
    MergeRequest,
    MergeResult,
    UnmergeRequest,
)
from api_client.models.ratings import FollowUpResponseBody, Rating, RatingList, RatingSubmission
from api_client.models.tickets import TicketAction, TicketStatus

__all__ = ["Client", "Mutation", "MutationResult", "RetryPolicy", "default_timeout", "tls_context"]

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "service-workbench-client/0.1"


def default_timeout() -> httpx.Timeout:
    """Connect quickly or give up; leave the server a little longer to answer."""
    return httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=5.0)


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """Verify certificates against the public roots, plus a hall's own CA when given."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with jitter for reads and keyed writes (`attempts=1` turns them off)."""

    attempts: int = 3
    timeout: float = 5.0
    wait_initial: float = 0.1
    wait_max: float = 1.0
    wait_jitter: float = 0.2


NO_RETRY = RetryPolicy(attempts=1)


@dataclass(frozen=True)
class Mutation:
    """A write to the API as plain data; `body` is the exact JSON text that will be sent.

    `base_version` goes out as `If-Match`; `ordering_key` ("ticket:5", "window:W01") tells the
    outbox which writes must reach the server in order.
    """

    method: str
    path: str
    body: str | None = None
    base_version: int | None = None
    ordering_key: str | None = None
    label: str = ""

    @property
    def if_match(self) -> str | None:
        return None if self.base_version is None else f'"{self.base_version}"'

    def with_base_version(self, version: int | None) -> Mutation:
        return replace(self, base_version=version)

    @classmethod
    def issue_ticket(cls, issue: TicketIssue) -> Mutation:
        return cls("POST", "/api/v1/tickets", encode_body(issue), label="issue ticket")

    @classmethod
    def call_next(cls, window: str) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{_segment(window)}/call-next",
            ordering_key=f"window:{window}",
            label=f"call next at {window}",
        )

    @classmethod
    def walk_in(cls, window: str, body: WalkIn) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{_segment(window)}/walk-in",
            encode_body(body),
            ordering_key=f"window:{window}",
            label=f"walk-in at {window}",
        )

    @classmethod
    def pause_window(cls, window: str, reason: str) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{_segment(window)}/pause",
            encode_body(PauseRequest(reason=reason)),
            ordering_key=f"window:{window}",
            label=f"pause {window}",
        )

    @classmethod
    def resume_window(cls, window: str) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{_segment(window)}/resume",
            ordering_key=f"window:{window}",
            label=f"resume {window}",
        )

    @classmethod
    def ticket_action(
        cls,
        ticket_id: int,
        action: TicketAction,
        body: TicketActionRequest | None = None,
        *,
        version: int | None = None,
    ) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/tickets/{int(ticket_id)}/{action}",
            encode_body(body),
            version,
            ordering_key=f"ticket:{int(ticket_id)}",
            label=f"{action} ticket {ticket_id}",
        )

    @classmethod
    def create_case(cls, intake: CaseIntake) -> Mutation:
        return cls("POST", "/api/v1/cases", encode_body(intake), label="case intake")

    @classmethod
    def claim_next_case(cls) -> Mutation:
        return cls("POST", "/api/v1/cases/claim-next", label="claim next case")

    @classmethod
    def verify_material(
        cls, case_id: int, material: str, body: MaterialVerification, *, version: int
    ) -> Mutation:
        return cls(
            "PUT",
            f"/api/v1/cases/{int(case_id)}/materials/{_segment(material)}",
            encode_body(body),
            version,
            ordering_key=f"case:{int(case_id)}",
            label=f"verify {material} of case {case_id}",
        )

    @classmethod
    def raise_alarm(cls, window: str, note: str | None = None) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{_segment(window)}/alarm",
            encode_body(AlarmRaise(note=note)),
            ordering_key=f"window:{window}",
            label=f"alarm at {window}",
        )

    @classmethod
    def acknowledge_alarm(cls, alarm_id: int) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/alarms/{int(alarm_id)}/acknowledge",
            label=f"acknowledge alarm {alarm_id}",
        )

    @classmethod
    def reveal(cls, subject: Literal["case", "ticket"], subject_id: int) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/{subject}s/{int(subject_id)}/reveal",
            label=f"reveal the applicant of {subject} {subject_id}",
        )

    @classmethod
    def rate(cls, rating: RatingSubmission) -> Mutation:
        return cls("POST", "/api/v1/ratings", encode_body(rating), label="rating")

    @classmethod
    def respond_to_rating(cls, rating_id: int, body: FollowUpResponseBody) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/ratings/{int(rating_id)}/responses",
            encode_body(body),
            ordering_key=f"rating:{int(rating_id)}",
            label=f"respond to rating {rating_id}",
        )

    @classmethod
    def open_hall_case(cls, ticket_id: int, body: HallCaseOpen) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/tickets/{int(ticket_id)}/case",
            encode_body(body),
            ordering_key=f"ticket:{int(ticket_id)}",
            label=f"open a case for ticket {ticket_id}",
        )

    @classmethod
    def merge(cls, case_id: int, request: MergeRequest, *, version: int) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/cases/{int(case_id)}/merge",
            encode_body(request),
            version,
            ordering_key=f"case:{int(case_id)}",
            label=f"merge case {request.other_case} into {case_id}",
        )

    @classmethod
    def unmerge(cls, merge_id: int, note: str | None = None) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/merges/{int(merge_id)}/unmerge",
            encode_body(UnmergeRequest(note=note)),
            label=f"unmerge {merge_id}",
        )

    @classmethod
    def decide(cls, case_id: int, decision: DecisionRequest, *, version: int) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/cases/{int(case_id)}/decisions",
            encode_body(decision),
            version,
            ordering_key=f"case:{int(case_id)}",
            label=f"{decision.decision} case {case_id}",
        )


@dataclass(frozen=True)
class MutationResult:
    """The server's answer to a write: status, JSON body (None for 204) and whether replayed."""

    status: int
    body: Any
    replayed: bool = False


def encode_body(body: BaseModel | Mapping[str, Any] | None) -> str | None:
    """Deterministic JSON text of a body (the server hashes it for idempotency)."""
    if body is None:
        return None
    if isinstance(body, BaseModel):
        data: Any = body.model_dump(mode="json", exclude_none=True)
    else:
        data = dict(body)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


def _retry_hook(exc: Exception) -> bool | float:
    """stamina's predicate: retry only what may succeed later; honour a short Retry-After."""
    if not isinstance(exc, ApiError) or not exc.retryable:
        return False
    if isinstance(exc, RateLimited):
        after = exc.retry_after
        return after if after is not None and after <= 5 else after is None
    return True


def _params(**values: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = value.isoformat() if isinstance(value, date) else str(value)
    return out


class Client:
    """The API, one typed method per endpoint. Use as `async with Client(url) as api: ...`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: httpx.Timeout | None = None,
        ca_file: str | Path | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout or default_timeout()
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.timeout,
            verify=tls_context(ca_file),
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client (the event stream shares its connection pool)."""
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    # -- transport -----------------------------------------------------------------------

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {**self.auth_headers(), **(headers or {})}
        if content is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                method,
                path,
                params=params,
                content=content.encode() if content is not None else None,
                headers=all_headers,
            )
        except httpx.TransportError as exc:
            raise error_from_transport(exc, f"{method} {path}") from exc
        except httpx.HTTPError as exc:
            raise InvalidResponse(f"{method} {path}: {exc}") from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    async def _request(
        self,
        method: str,
        path: str,
        *,
        retry: bool,
        params: Mapping[str, str] | None = None,
        content: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        policy = self.retry if retry else NO_RETRY
        if policy.attempts <= 1:
            return await self._send_once(
                method, path, params=params, content=content, headers=headers
            )
        async for attempt in stamina.retry_context(
            on=_retry_hook,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                return await self._send_once(
                    method, path, params=params, content=content, headers=headers
                )
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def _get(self, model: type[M], path: str, **params: Any) -> M:
        response = await self._request("GET", path, retry=True, params=_params(**params))
        return _parse(model, response)

    async def send(
        self, mutation: Mutation, *, idempotency_key: str | None = None, retry: bool = True
    ) -> MutationResult:
        """Send a write with its key (a fresh one when None); retried only with a key."""
        headers = {"Idempotency-Key": idempotency_key or new_idempotency_key()}
        if mutation.if_match is not None:
            headers["If-Match"] = mutation.if_match
        response = await self._request(
            mutation.method, mutation.path, retry=retry, content=mutation.body, headers=headers
        )
        return MutationResult(
            status=response.status_code,
            body=_json_or_none(response),
            replayed=response.headers.get("Idempotency-Replayed", "").lower() == "true",
        )

    async def _mutate(self, model: type[M], mutation: Mutation, key: str | None) -> M | None:
        result = await self.send(mutation, idempotency_key=key)
        if result.body is None:
            return None
        return parse_body(model, result.body)

    async def _mutate_one(self, model: type[M], mutation: Mutation, key: str | None) -> M:
        found = await self._mutate(model, mutation, key)
        if found is None:
            raise InvalidResponse(f"{mutation.method} {mutation.path}: the answer had no body.")
        return found

    # -- auth ----------------------------------------------------------------------------

    async def login(self, username: str, password: str, window: str | None = None) -> LoginResponse:
        """Log in (a clerk names the window); the client keeps the token for later calls."""
        body: dict[str, Any] = {"username": username, "password": password}
        if window:
            body["window"] = window
        response = await self._request(
            "POST", "/api/v1/auth/login", retry=False, content=json.dumps(body)
        )
        answer = _parse(LoginResponse, response)
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
        return dict(_json_or_none(response) or {})

    async def readyz(self) -> dict[str, Any]:
        response = await self._request("GET", "/readyz", retry=True)
        return dict(_json_or_none(response) or {})


def _json_or_none(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise InvalidResponse(f"The server's answer is not JSON ({response.url.path}).") from exc


def parse_body(model: type[M], body: Any) -> M:
    """Validate an already decoded JSON body as `model` (InvalidResponse when it does not fit)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidResponse(f"The server's answer is not a valid {model.__name__}.") from exc


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise InvalidResponse(
            f"The server's answer is not a valid {model.__name__} ({response.url.path})."
        ) from exc
