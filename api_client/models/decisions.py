"""Provides the decision bodies: one request model per decision kind, and the decision's answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from api_client.models.cases import Case, CaseDecisionRecord, NoticeKind
from api_client.models.common import RequestModel, ResponseModel, Text

DecisionKind = Literal[
    "accept",
    "accept_with_owed",
    "supplement",
    "supplement_received",
    "reject",
    "approve",
    "transfer",
    "withdraw",
]

_OPEN = ("submitted", "under_review", "supplement_requested", "accepted")
_REVIEW = ("submitted", "under_review", "supplement_requested")
DECISION_SOURCES: dict[DecisionKind, tuple[str, ...]] = {
    "accept": _REVIEW,
    "accept_with_owed": _REVIEW,
    "supplement": _OPEN,
    "supplement_received": ("supplement_requested",),
    "reject": _OPEN,
    "approve": ("accepted",),
    "transfer": _OPEN,
    "withdraw": _OPEN,
}
"""The case statuses each decision may be taken from: the server refuses any other, and the
workbench offers only these."""

Note = Annotated[Text, Field(min_length=1, max_length=1000)]


class AcceptDecision(RequestModel):
    """受理: every mandatory material is provided; starts the promised time limit."""

    decision: Literal["accept"]
    note: Note | None = None


class OwedDue(RequestModel):
    material: Text = Field(max_length=64)
    due_on: date


class AcceptWithOwedDecision(RequestModel):
    """容缺受理: accept now, the materials marked owed are supplied later (by their due dates,
    which default to and may not be later than the promised completion date)."""

    decision: Literal["accept_with_owed"]
    owed_due: list[OwedDue] = Field(default_factory=list, max_length=100)
    pledge_signed: bool = Field(description="The applicant signed the pledge (告知承诺).")
    note: Note | None = None

    @model_validator(mode="after")
    def _pledged(self) -> AcceptWithOwedDecision:
        if not self.pledge_signed:
            raise ValueError("pledge_signed must be true: 容缺受理 needs the applicant's pledge")
        return self


class SupplementItem(RequestModel):
    material: Text = Field(max_length=64)
    what_is_needed: Text | None = Field(default=None, min_length=1, max_length=500)
    what_is_needed_en: Text | None = Field(default=None, min_length=1, max_length=500)
    reason: Text | None = Field(default=None, min_length=1, max_length=500)
    reason_en: Text | None = Field(default=None, min_length=1, max_length=500)


class SupplementDecision(RequestModel):
    """补正: one notice listing every missing or defective material (一次性告知). Materials the
    clerk does not name are added when missing or defective; the clock pauses."""

    decision: Literal["supplement"]
    items: list[SupplementItem] = Field(default_factory=list, max_length=100)
    note: Note | None = None


class SupplementReceivedDecision(RequestModel):
    """The requested supplements arrived: the case returns to review (or to accepted, whose
    clock restarts the day after)."""

    decision: Literal["supplement_received"]
    note: Note | None = None


class RejectDecision(RequestModel):
    """不予受理 / 不予许可: a reason from the hall's list and free text."""

    decision: Literal["reject"]
    reason_code: Text = Field(min_length=1, max_length=64)
    reason_text: Note


class ApproveDecision(RequestModel):
    """办结: only from accepted, and only when nothing is still owed."""

    decision: Literal["approve"]
    note: Note | None = None


class TransferDecision(RequestModel):
    """转办 to another window or department, with a note."""

    decision: Literal["transfer"]
    target_window: Text | None = Field(default=None, min_length=1, max_length=32)
    target_department: Text | None = Field(default=None, min_length=1, max_length=32)
    note: Note

    @model_validator(mode="after")
    def _one_target(self) -> TransferDecision:
        if (self.target_window is None) == (self.target_department is None):
            raise ValueError("give exactly one of target_window and target_department")
        return self


class WithdrawDecision(RequestModel):
    """撤回 at the applicant's request."""

    decision: Literal["withdraw"]
    note: Note | None = None


DecisionRequest = Annotated[
    AcceptDecision
    | AcceptWithOwedDecision
    | SupplementDecision
    | SupplementReceivedDecision
    | RejectDecision
    | ApproveDecision
    | TransferDecision
    | WithdrawDecision,
    Field(discriminator="decision"),
]


class DecisionResult(ResponseModel):
    """The decision as recorded, and the case after it."""

    decision: CaseDecisionRecord
    case: Case


NoticeDecision = (
    AcceptDecision | AcceptWithOwedDecision | SupplementDecision | RejectDecision | ApproveDecision
)
"""The decisions that issue a notice."""
NoticeDecisionRequest = Annotated[NoticeDecision, Field(discriminator="decision")]


class NoticePreview(ResponseModel):
    """The notice a decision would issue if it were taken now, without taking it: the same text
    the issued notice's plain-text form has (its PDF lays out the same lines)."""

    kind: NoticeKind
    number: str = Field(description="The number the notice would get (the case's next one).")
    case_version: int = Field(
        description="The case version it was made from: decide with this If-Match and the "
        "notice issued is this one, or the decision is refused (412) because the case changed."
    )
    text: str
