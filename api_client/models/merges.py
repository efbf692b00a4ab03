"""Provides the merge bodies: candidates for a case or a served visitor, the side-by-side preview,
the merge request and its record, unmerging, and opening a hall case for the visitor served."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from api_client.models.cases import (
    Case,
    CaseApplicant,
    CaseMaterial,
    CaseStatus,
    Channel,
    DocumentFacts,
    IntakeApplicant,
    MaterialStatus,
    MergeLink,
    ProvidedAs,
)
from api_client.models.common import RequestModel, ResponseModel, Text

MergeSide = Literal["survivor", "absorbed"]
ApplicantField = Literal["id_number", "name", "phone", "birth_date", "sex"]
MatchKind = Literal["exact", "related_item", "near"]
MatchReason = Literal[
    "same_id_number",
    "same_service_item",
    "related_service_item",
    "id_number_one_swap",
    "id_number_one_digit",
    "same_name",
    "same_phone",
    "same_birth_date",
    "same_credit_code",
]
MergeState = Literal["active", "undone"]


class CaseSummary(ResponseModel):
    """One case as the merge screens show it next to another (personal data masked)."""

    id: int
    number: str
    service_item: str
    channel: Channel
    status: CaseStatus
    applicant: CaseApplicant
    submitted_at: datetime
    accepted_on: date | None = None
    deadline: date | None = None
    ticket_id: int | None = None
    version: int


class MergeCandidate(ResponseModel):
    """An open case that may be the same matter, why it matched and how strongly."""

    case: CaseSummary
    match: MatchKind = Field(
        description="exact: same ID number and service item; related_item: same ID number and "
        "a related item; near: a near match (ID one swap or digit away, name and phone, ...)."
    )
    reasons: list[MatchReason]
    score: int = Field(ge=0, le=100, description="100 exact, 85 related item, at most 80 near.")
    blocked: str | None = Field(
        default=None, description="Why merging with this candidate would be refused, if it would."
    )


class MergeCandidateList(ResponseModel):
    """Candidates ranked best first: exact, then related item, then near matches by score."""

    case: int | None = Field(default=None, description="The case they are candidates for.")
    ticket: int | None = Field(default=None, description="The ticket, when asked for a visitor.")
    items: list[MergeCandidate]


class MaterialChoice(RequestModel):
    """Which side's item of one material survives (both sides have one)."""

    material: Text = Field(min_length=1, max_length=64)
    keep: MergeSide


class ApplicantResolution(RequestModel):
    """For each applicant field that differs between the two cases, whose value is right."""

    id_number: MergeSide | None = None
    name: MergeSide | None = None
    phone: MergeSide | None = None
    birth_date: MergeSide | None = None
    sex: MergeSide | None = None


class MergeRequest(RequestModel):
    """`POST /cases/{case}/merge`: merge `other_case` with the case of the path.

    If-Match carries the survivor's version (the path case's when `survivor` is `this`)."""

    other_case: int = Field(ge=1, le=2**31 - 1)
    survivor: Literal["this", "other"] = Field(
        default="this", description="Which case survives: the path case or `other_case`."
    )
    other_version: int | None = Field(
        default=None,
        ge=1,
        description="The version of the case that is not named by If-Match, as the clerk saw "
        "it; stale gets 412.",
    )
    materials: list[MaterialChoice] = Field(
        default_factory=list,
        max_length=100,
        description="Choices for materials both cases have; the rest take the default "
        "(the verified side, then the newer one).",
    )
    applicant: ApplicantResolution = Field(default_factory=ApplicantResolution)
    confirm_applicant_mismatch: bool = Field(
        default=False,
        description="Required when the two cases' applicants have different ID numbers.",
    )
    note: Text | None = Field(default=None, min_length=1, max_length=500)


class MergeMaterialSide(ResponseModel):
    """What one case has for one material: its verification and its items (with origin)."""

    status: MaterialStatus
    provided_as: ProvidedAs | None = None
    verified: bool
    updated_at: datetime | None = None
    items: list[CaseMaterial] = Field(default_factory=list)


class MergeMaterialRow(ResponseModel):
    """One material, side by side."""

    material: str
    name: str | None = None
    name_en: str | None = None
    on_survivor_checklist: bool = Field(
        description="A material of the survivor's service item (else kept as an item only)."
    )
    survivor: MergeMaterialSide | None = None
    absorbed: MergeMaterialSide | None = None
    default: MergeSide
    differs: bool = Field(description="Both sides have it: the clerk may choose.")


class ApplicantDifference(ResponseModel):
    """An applicant field with different values on the two sides (masked where personal)."""

    field: ApplicantField
    survivor: str | None = None
    absorbed: str | None = None


class MergePreview(ResponseModel):
    """`GET /cases/{case}/merge-preview`: what a merge would do, before doing it."""

    survivor: CaseSummary
    absorbed: CaseSummary
    applicant_mismatch: bool = Field(
        description="Different ID numbers: the merge needs confirm_applicant_mismatch."
    )
    differences: list[ApplicantDifference] = Field(
        description="Each needs a resolution in `applicant`."
    )
    materials: list[MergeMaterialRow]
    time_limit_from: MergeSide | None = Field(
        default=None, description="Whose promised time limit the survivor carries (the earlier)."
    )
    deadline: date | None = None
    ticket: int | None = Field(default=None, description="The ticket that follows the survivor.")


class MergeMaterialOutcome(ResponseModel):
    material: str
    kept: MergeSide
    origins: list[str] = Field(default_factory=list)


class MergeRecord(ResponseModel):
    """One merge: who merged what when, how, and whether it can still be undone."""

    id: int
    state: MergeState
    survivor: MergeLink
    absorbed: MergeLink
    merged_by: str | None = None
    merged_at: datetime
    unmerge_until: datetime
    materials: list[MergeMaterialOutcome] = Field(default_factory=list)
    applicant: dict[str, MergeSide] = Field(
        default_factory=dict, description="The resolutions applied to differing fields."
    )
    applicant_mismatch_confirmed: bool = False
    time_limit_from: MergeSide | None = None
    ticket: int | None = None
    note: str | None = None
    unmerged_by: str | None = None
    unmerged_at: datetime | None = None
    can_unmerge: bool = False
    unmerge_blocked: str | None = Field(
        default=None, description="Why a supervisor cannot undo it now."
    )


class MergeResult(ResponseModel):
    """The merge (or unmerge) and both cases after it."""

    merge: MergeRecord
    survivor: Case
    absorbed: Case


class MergeList(ResponseModel):
    items: list[MergeRecord]


class UnmergeRequest(RequestModel):
    note: Text | None = Field(default=None, min_length=1, max_length=500)


class HallPaperMaterial(RequestModel):
    """A paper material the visitor handed over at the window."""

    material: Text = Field(min_length=1, max_length=64)
    document: DocumentFacts | None = Field(
        default=None, description="What the clerk read off it, for the automatic checks."
    )


class HallCaseOpen(RequestModel):
    """`POST /tickets/{ticket}/case`: open a hall case for the visitor being served."""

    service_item: Text | None = Field(
        default=None, max_length=32, description="By default the ticket's service item."
    )
    applicant: IntakeApplicant | None = Field(
        default=None, description="By default the ticket's applicant (when the ticket has one)."
    )
    materials: list[HallPaperMaterial] = Field(default_factory=list, max_length=100)
