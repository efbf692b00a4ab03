"""Provides the citizen rating (好差评) bodies and their follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, model_validator

from api_client.models.common import RequestModel, ResponseModel, Text

RatingCategory = Literal["efficiency", "attitude", "service_level"]
FollowUpState = Literal["open", "closed"]
ResponderRole = Literal["clerk", "supervisor"]


class RatingSubmission(RequestModel):
    """A rating from the counter's rating pad (terminal) or the online portal."""

    ticket: int | None = Field(default=None, ge=1, le=2**31 - 1, description="A finished ticket.")
    case: int | None = Field(default=None, ge=1, le=2**31 - 1, description="A decided case.")
    score: int = Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意.")
    categories: list[RatingCategory] = Field(default_factory=list, max_length=3)
    comment: Text | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_subject(self) -> RatingSubmission:
        if (self.ticket is None) == (self.case is None):
            raise ValueError("rate exactly one of ticket and case")
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories must not repeat")
        return self


class FollowUpResponseBody(RequestModel):
    """A clerk's or supervisor's response to a bad rating; a supervisor may close it."""

    text: Text = Field(min_length=1, max_length=2000)
    close: bool = Field(default=False, description="Supervisors only; needs a clerk response.")


class FollowUpResponse(ResponseModel):
    id: int
    role: ResponderRole
    author: str
    text: str
    at: datetime


class FollowUp(ResponseModel):
    """The follow-up (整改) a rating of 1 or 2 opens."""

    state: FollowUpState
    due_on: date
    overdue: bool
    closed_at: datetime | None = None
    closed_by: str | None = None
    responses: list[FollowUpResponse] = Field(default_factory=list)


class Rating(ResponseModel):
    id: int
    subject_type: Literal["ticket", "case"]
    subject_id: int
    subject_label: str
    score: int
    score_label: str
    score_label_en: str
    categories: list[RatingCategory]
    comment: str | None = None
    channel: Literal["terminal", "portal", "admin"]
    clerk: str | None = None
    submitted_at: datetime
    follow_up: FollowUp | None = None


class RatingList(ResponseModel):
    items: list[Rating]
    next_cursor: str | None = None
