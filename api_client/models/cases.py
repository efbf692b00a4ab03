"""Provides the case bodies: intake of online applications and the case documents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from api_client.identity import CreditCode, PhoneNumber, ResidentId
from api_client.models.common import RequestModel, ResponseModel

Channel = Literal["online", "hall", "self_service", "appointment"]
CaseStatus = Literal[
    "submitted",
    "under_review",
    "supplement_requested",
    "accepted",
    "approved",
    "rejected",
    "withdrawn",
    "merged",
]
ApplicantKind = Literal["person", "organisation"]


class IntakeApplicant(RequestModel):
    kind: ApplicantKind = "person"
    id_number: str = Field(
        min_length=18,
        max_length=18,
        description="Resident ID number (persons) or unified social credit code (organisations).",
    )
    name: str = Field(min_length=1, max_length=100)
    phone: PhoneNumber | None = None

    @model_validator(mode="after")
    def _check_id_number(self) -> IntakeApplicant:
        validated = _validate_identifier(self.kind, self.id_number)
        if validated != self.id_number:
            object.__setattr__(self, "id_number", validated)
        return self


def _validate_identifier(kind: ApplicantKind, value: str) -> str:
    from pydantic import TypeAdapter

    adapter: TypeAdapter[str] = TypeAdapter(ResidentId if kind == "person" else CreditCode)
    return adapter.validate_python(value)


class IntakeMaterial(RequestModel):
    material: str = Field(max_length=64, description="Code of the required material.")
    file_name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/pdf", max_length=100)
    size: int = Field(ge=0, le=200 * 1024 * 1024)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CaseIntake(RequestModel):
    """What the online portal sends for a new application."""

    service_item: str = Field(max_length=32)
    channel: Channel = "online"
    applicant: IntakeApplicant
    materials: list[IntakeMaterial] = Field(default_factory=list, max_length=100)
    portal_reference: str | None = Field(default=None, max_length=64)


class CaseMaterial(ResponseModel):
    material: str
    file_name: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    origin: Literal["online_upload", "hall_paper", "e_licence"]


class CaseApplicant(ResponseModel):
    kind: ApplicantKind
    id_number_masked: str
    name: str
    phone_masked: str | None = None


class Case(ResponseModel):
    id: int
    number: str
    service_item: str
    channel: Channel
    status: CaseStatus
    applicant: CaseApplicant
    assignee: str | None = None
    submitted_at: datetime
    claimed_at: datetime | None = None
    portal_reference: str | None = None
    ticket_id: int | None = None
    materials: list[CaseMaterial] = []
    version: int


class CaseList(ResponseModel):
    items: list[Case]
    next_cursor: str | None = None
