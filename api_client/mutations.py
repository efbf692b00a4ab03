"""Provides `Mutation`: a write to the API as plain data (method, path, exact JSON body, the
version it expects), so the offline outbox can store it and send it later; and `MutationResult`,
the server's answer to one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel

from api_client.models import (
    CaseIntake,
    DecisionRequest,
    MaterialVerification,
    TicketActionRequest,
    TicketIssue,
    WalkIn,
)
from api_client.models.alarms import AlarmRaise
from api_client.models.catalogue import PauseRequest
from api_client.models.merges import (
    HallCaseOpen,
    MergeRequest,
    UnmergeRequest,
)
from api_client.models.ratings import FollowUpResponseBody, RatingSubmission
from api_client.models.tickets import TicketAction


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
            f"/api/v1/windows/{path_segment(window)}/call-next",
            ordering_key=f"window:{window}",
            label=f"call next at {window}",
        )

    @classmethod
    def walk_in(cls, window: str, body: WalkIn) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{path_segment(window)}/walk-in",
            encode_body(body),
            ordering_key=f"window:{window}",
            label=f"walk-in at {window}",
        )

    @classmethod
    def pause_window(cls, window: str, reason: str) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{path_segment(window)}/pause",
            encode_body(PauseRequest(reason=reason)),
            ordering_key=f"window:{window}",
            label=f"pause {window}",
        )

    @classmethod
    def resume_window(cls, window: str) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{path_segment(window)}/resume",
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
            f"/api/v1/cases/{int(case_id)}/materials/{path_segment(material)}",
            encode_body(body),
            version,
            ordering_key=f"case:{int(case_id)}",
            label=f"verify {material} of case {case_id}",
        )

    @classmethod
    def raise_alarm(cls, window: str, note: str | None = None) -> Mutation:
        return cls(
            "POST",
            f"/api/v1/windows/{path_segment(window)}/alarm",
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


def path_segment(value: str | int) -> str:
    return quote(str(value), safe="")
