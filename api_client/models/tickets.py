"""Provides the hall-queue bodies: issuing, listing and acting on tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

from pydantic import AwareDatetime, Field, field_validator

from api_client.identity import ResidentId
from api_client.models.common import RequestModel, ResponseModel, Text

TicketStatus = Literal["waiting", "called", "serving", "parked", "done", "no_show"]

AT_WINDOW_STATUSES: Final[tuple[TicketStatus, ...]] = ("called", "serving")
"""The visitor is at the window: called to it or being served there (the clerk's current
ticket; a window holds at most one such ticket)."""
HELD_STATUSES: Final[tuple[TicketStatus, ...]] = (*AT_WINDOW_STATUSES, "parked")
"""A window holds the ticket: the visitor is at it, or parked there to be resumed later."""
TicketAction = Literal[
    "call", "recall", "no-show", "reactivate", "park", "resume", "transfer", "start", "finish"
]
TicketOutcome = Literal[
    "completed", "case_opened", "information_only", "referred", "incomplete", "abandoned"
]


class TicketIssue(RequestModel):
    """What the self-service terminal sends to issue a ticket."""

    service_item: Text = Field(max_length=32, description="Service item code.")
    priority_class: Text | None = Field(default=None, max_length=32)
    applicant_id_number: ResidentId | None = Field(
        default=None, description="Resident ID read from the applicant's card, if swiped."
    )
    applicant_name: Text | None = Field(
        default=None, min_length=1, max_length=100, description="Name read from the same card."
    )
    appointment_at: AwareDatetime | None = Field(
        default=None, description="Appointment time for appointment holders (with its offset)."
    )

    @field_validator("appointment_at")
    @classmethod
    def _within_a_year(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        now = datetime.now(UTC)
        if not now - timedelta(days=1) <= value <= now + timedelta(days=366):
            raise ValueError("an appointment lies between yesterday and a year from now")
        return value.astimezone(UTC)


class WalkIn(RequestModel):
    """A clerk serves someone who has no ticket."""

    service_item: Text = Field(max_length=32)
    applicant_id_number: ResidentId | None = None
    applicant_name: Text | None = Field(default=None, min_length=1, max_length=100)


class TicketActionRequest(RequestModel):
    """Optional body of a ticket action."""

    window: Text | None = Field(
        default=None, max_length=32, description="transfer: the target window."
    )
    service_item: Text | None = Field(
        default=None, max_length=32, description="transfer: the target service item."
    )
    outcome: TicketOutcome | None = Field(default=None, description="finish: required.")
    reason: Text | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="transfer: required, why the ticket moves (the board and the log show it).",
    )
    note: Text | None = Field(default=None, max_length=500)


class TicketApplicant(ResponseModel):
    name: str
    id_number_masked: str


class Ticket(ResponseModel):
    id: int
    number: str
    day: date
    status: TicketStatus
    service_item: str
    priority_class: str | None = None
    priority_weight: int = 0
    appointment_at: datetime | None = None
    window: str | None = Field(default=None, description="Window serving or holding the ticket.")
    target_window: str | None = Field(
        default=None, description="Set when the ticket was transferred to one window."
    )
    walk_in: bool = False
    issued_at: datetime
    called_at: datetime | None = None
    recalled_at: datetime | None = None
    recall_count: int = 0
    serving_started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: TicketOutcome | None = None
    transfer_count: int = 0
    applicant: TicketApplicant | None = Field(
        default=None, description="The applicant, when known (ID number masked)."
    )
    waiting_ahead: int | None = Field(
        default=None, description="Tickets ahead in the same queue (only when issued)."
    )
    version: int


class TicketList(ResponseModel):
    items: list[Ticket]
    next_cursor: str | None = None
