"""Provides the case bodies: intake, the case document with its checklist, findings, time limit,
decisions and notices, and the clerk's verification of one material."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, TypeAdapter, ValidationInfo, field_validator, model_validator

from api_client.identity import CreditCode, PhoneNumber, ResidentId
from api_client.material_kinds import MaterialKind
from api_client.models.common import RequestModel, ResponseModel, Text

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
Sex = Literal["male", "female"]
MaterialStatus = Literal["pending", "provided", "missing", "owed", "not_applicable"]
ProvidedAs = Literal["original", "copy", "upload", "e_licence"]
FindingSeverity = Literal["error", "warning", "info"]
ClockState = Literal["not_started", "running", "paused", "stopped"]
ClockStatus = Literal["on_track", "due_soon", "overdue", "paused"]
NoticeKind = Literal["accept", "supplement", "owed", "reject", "approve"]


class DocumentFacts(RequestModel):
    """What the clerk (or the portal) read off one document, for the automatic checks."""

    holder_name: Text | None = Field(default=None, min_length=1, max_length=100)
    id_number: Text | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="The resident ID number or credit code printed on the document, as typed "
        "(not validated here: the checks report a wrong check character as a finding).",
    )
    id_kind: Literal["resident_id", "credit_code"] | None = Field(
        default=None,
        description="What `id_number` is; by default a resident ID for ID-card materials, a "
        "credit code for business-licence materials, else by the applicant's kind.",
    )
    birth_date: date | None = Field(default=None, description="Birth date printed on it.")
    sex: Sex | None = Field(default=None, description="Sex printed on it.")
    valid_until: date | None = Field(default=None, description="Expiry date printed on it.")
    of_applicant: bool = Field(
        default=True,
        description="False for documents of another person (a spouse, a guardian): their "
        "name and ID are then not compared with the applicant's.",
    )


class IntakeApplicant(RequestModel):
    kind: ApplicantKind = "person"
    id_number: Text = Field(
        min_length=18,
        max_length=18,
        description="Resident ID number (persons) or unified social credit code (organisations).",
    )
    name: Text = Field(min_length=1, max_length=100)
    phone: PhoneNumber | None = None
    birth_date: date | None = Field(default=None, description="As the applicant declared it.")
    sex: Sex | None = Field(default=None, description="As the applicant declared it.")

    @field_validator("id_number")
    @classmethod
    def _check_id_number(cls, value: str, info: ValidationInfo) -> str:
        # `kind` is declared first, so it is validated (and in info.data) by now; errors are
        # reported at `applicant.id_number`, the field the person has to correct.
        kind = info.data.get("kind", "person")
        adapter = _PERSON_ID if kind == "person" else _ORGANISATION_ID
        return adapter.validate_python(value)


_PERSON_ID: TypeAdapter[str] = TypeAdapter(ResidentId)
_ORGANISATION_ID: TypeAdapter[str] = TypeAdapter(CreditCode)


class IntakeMaterial(RequestModel):
    material: Text = Field(max_length=64, description="Code of the required material.")
    file_name: Text = Field(min_length=1, max_length=255)
    content_type: Text = Field(default="application/pdf", max_length=100)
    size: int = Field(ge=0, le=200 * 1024 * 1024)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    document: DocumentFacts | None = None


class CaseIntake(RequestModel):
    """What the online portal sends for a new application."""

    service_item: Text = Field(max_length=32)
    channel: Channel = "online"
    applicant: IntakeApplicant
    materials: list[IntakeMaterial] = Field(default_factory=list, max_length=100)
    portal_reference: Text | None = Field(default=None, max_length=64)


class DocumentFactsOut(ResponseModel):
    """Document facts as the API reports them (ID numbers masked)."""

    holder_name: str | None = None
    id_number_masked: str | None = None
    id_kind: Literal["resident_id", "credit_code"] | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    valid_until: date | None = None
    of_applicant: bool = True


class CaseMaterial(ResponseModel):
    material: str
    file_name: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    origin: Literal["online_upload", "hall_paper", "e_licence"]
    document: DocumentFactsOut | None = None
    merged_from: str | None = Field(
        default=None, description="Number of the case this material came from by a merge."
    )


class CaseApplicant(ResponseModel):
    kind: ApplicantKind
    id_number_masked: str
    name: str
    phone_masked: str | None = None


class AttachedELicence(ResponseModel):
    id: int
    type: str
    type_name: str
    number_masked: str
    holder_name: str
    issuer: str
    valid_from: date
    valid_to: date | None = None


class ChecklistRow(ResponseModel):
    """One required material of the case's service item and what the clerk recorded for it."""

    material: str
    name: str
    name_en: str
    mandatory: bool
    may_be_owed: bool
    e_licence_type: str | None = None
    needs_expiry_check: bool = False
    kind: MaterialKind = "other"
    status: MaterialStatus
    provided_as: ProvidedAs | None = None
    note: str | None = None
    document: DocumentFactsOut | None = None
    e_licence: AttachedELicence | None = None
    file_sha256: str | None = None
    uploaded: bool = Field(description="The portal recorded an upload for it at intake.")
    owed_due_on: date | None = None
    revision: int = Field(description="Bumped by every change; the one-time notice rule uses it.")
    requested_in_notice: str | None = Field(
        default=None, description="Number of the supplement notice that last asked for it."
    )
    updated_by: str | None = None
    updated_at: datetime | None = None


class Finding(ResponseModel):
    """One automatic check that did not pass (or a fact the clerk must know)."""

    code: str
    severity: FindingSeverity
    message_zh: str
    message_en: str
    material: str | None = None
    field: str | None = None


class TimeLimit(ResponseModel):
    """The promised time limit (承诺时限) of the case, counted in working days."""

    promised_days: int
    clock: ClockState
    accepted_on: date | None = None
    deadline: date | None = None
    working_days_left: int | None = None
    status: ClockStatus | None = Field(
        default=None, description="None until acceptance and once the case has ended."
    )
    paused_since: date | None = None
    pauses: list[tuple[date, date | None]] = Field(default_factory=list)
    completed_on: date | None = None
    finished_on_time: bool | None = None


class CaseDecisionRecord(ResponseModel):
    """One decision on the case: who, when, why."""

    id: int
    decision: str
    from_status: CaseStatus
    to_status: CaseStatus
    actor: str | None = None
    at: datetime
    reason_code: str | None = None
    note: str | None = None
    notice: int | None = None
    details: dict[str, object] = Field(default_factory=dict)


class NoticeRef(ResponseModel):
    """A notice issued for the case; fetch it as PDF or text."""

    id: int
    kind: NoticeKind
    number: str
    issued_at: datetime
    pdf_url: str
    text_url: str


class MergeLink(ResponseModel):
    """The other side of an active merge: the merge and the case it joined this one with."""

    merge: int
    case: int
    number: str
    at: datetime


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
    materials: list[CaseMaterial] = Field(default_factory=list)
    version: int
    time_limit: TimeLimit | None = None
    checklist: list[ChecklistRow] | None = Field(
        default=None, description="On single-case answers; omitted in lists."
    )
    findings: list[Finding] | None = Field(
        default=None, description="On single-case answers; omitted in lists."
    )
    decisions: list[CaseDecisionRecord] | None = None
    notices: list[NoticeRef] | None = None
    owed: list[str] = Field(
        default_factory=list, description="Codes of materials still owed (容缺)."
    )
    merged_into: MergeLink | None = Field(
        default=None,
        description=(
            "Set while the case is merged: the case that survived it. On single-case answers; "
            "lists always give null (a merged case's list row has status `merged`)."
        ),
    )
    merged_from: list[MergeLink] = Field(
        default_factory=list,
        description=(
            "Cases merged into this one (active merges only). On single-case answers; lists "
            "always give an empty list."
        ),
    )


class MaterialVerification(RequestModel):
    """What the clerk records about one material (`PUT /cases/{case}/materials/{material}`)."""

    status: Literal["provided", "missing", "owed", "not_applicable"]
    provided_as: ProvidedAs | None = Field(
        default=None, description="Required when provided: original sighted, copy, file, e-licence."
    )
    e_licence_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    note: Text | None = Field(default=None, max_length=500)
    document: DocumentFacts | None = None
    file_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the uploaded file as the clerk opened it.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> MaterialVerification:
        if self.status == "provided" and self.provided_as is None:
            raise ValueError("provided_as is required when status is provided")
        if self.status != "provided" and self.provided_as is not None:
            raise ValueError("provided_as is only for status provided")
        if (self.provided_as == "e_licence") != (self.e_licence_id is not None):
            raise ValueError("e_licence_id goes with provided_as e_licence, and only with it")
        return self


class CaseList(ResponseModel):
    items: list[Case]
    next_cursor: str | None = None
