"""Provides the merge side of the desk: candidates for the visitor or case in hand, the
side-by-side preview, the clerk's choices, merging, merge history and unmerging.

Textual-free, like the rest of `workbench/`. Merging is a direct keyed call, not an outbox entry:
it is built on a preview that only the server can give, and the clerk needs its answer (or the
reason it was refused) at once. The call carries one idempotency key, so a retried request is
applied once. After a merge or unmerge both cases are folded into the work list and the store,
so the absorbed case leaves the list and the survivor shows what it gained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from api_client.errors import Conflict
from api_client.models import (
    Case,
    IntakeApplicant,
    MergeCandidateList,
    MergePreview,
    MergeRecord,
    MergeRequest,
    MergeResult,
    Ticket,
)
from api_client.models.merges import (
    ApplicantField,
    ApplicantResolution,
    HallCaseOpen,
    MaterialChoice,
    MergeSide,
)
from workbench.services import DeskService

__all__ = [
    "MergeChoices",
    "MergeSubject",
    "candidates",
    "case_for_subject",
    "case_id_from_number",
    "merge",
    "merge_history",
    "preview",
    "remember_result",
    "unmerge",
]

Survivor = Literal["this", "other"]


@dataclass(frozen=True)
class MergeSubject:
    """What the clerk looks for candidates for: the visitor's ticket, or a case."""

    ticket_id: int | None = None
    case_id: int | None = None
    label: str = ""

    @classmethod
    def of(cls, ticket: Ticket | None, case: Case | None) -> MergeSubject | None:
        """The visitor being served if there is one, else the case in hand, else None."""
        if ticket is not None:
            return cls(ticket_id=ticket.id, label=ticket.number)
        if case is not None:
            return cls(case_id=case.id, label=case.number)
        return None

    @property
    def key(self) -> str:
        return f"t:{self.ticket_id}" if self.ticket_id is not None else f"c:{self.case_id}"


async def candidates(service: DeskService, subject: MergeSubject) -> MergeCandidateList:
    """The open cases that may be the same matter, best first (exact matches first)."""
    client = service.ws.client
    if subject.ticket_id is not None:
        return await client.ticket_merge_candidates(subject.ticket_id)
    assert subject.case_id is not None
    return await client.merge_candidates(subject.case_id)


async def case_for_subject(
    service: DeskService,
    subject: MergeSubject,
    known: int | None = None,
    applicant: IntakeApplicant | None = None,
) -> tuple[int, Case | None]:
    """The case of the subject (`known` when the candidate list named it); a visitor without
    a case gets a hall case opened first (for `applicant`, by default the ticket's own),
    returned as the second value (else None)."""
    if subject.case_id is not None:
        return subject.case_id, None
    if known is not None:
        return known, None
    assert subject.ticket_id is not None
    client = service.ws.client
    try:
        opened = await client.open_hall_case(subject.ticket_id, HallCaseOpen(applicant=applicant))
    except Conflict:
        # the ticket got its case meanwhile (another screen or another run opened it)
        found = (await client.ticket_merge_candidates(subject.ticket_id)).case
        if found is None:
            raise
        return found, None
    _remember_case(service, opened)
    return opened.id, opened


def case_id_from_number(text: str) -> int | None:
    """The case id in a case number as typed ("DL-ZS-20260302-000012", "000012" or "12")."""
    found = re.search(r"(\d+)\s*$", text.strip())
    if found is None:
        return None
    value = int(found.group(1))
    return value if 1 <= value <= 2**31 - 1 else None


async def preview(
    service: DeskService, this_case: int, other_case: int, survivor: Survivor = "this"
) -> MergePreview:
    return await service.ws.client.merge_preview(this_case, other_case, survivor=survivor)


@dataclass
class MergeChoices:
    """The clerk's choices on the merge screen: which side's item of each material survives,
    whose value of each differing applicant field is right, and the mismatch confirmation."""

    preview: MergePreview
    materials: dict[str, MergeSide] = field(default_factory=dict)
    applicant: dict[ApplicantField, MergeSide] = field(default_factory=dict)
    confirm_mismatch: bool = False
    note: str | None = None

    def __post_init__(self) -> None:
        for row in self.preview.materials:
            self.materials.setdefault(row.material, row.default)

    def keep(self, material: str) -> MergeSide:
        return self.materials.get(material, "survivor")

    def choosable(self, material: str) -> bool:
        """Both sides have the material: the clerk may pick either."""
        return any(r.material == material and r.differs for r in self.preview.materials)

    def choose_material(self, material: str, side: MergeSide) -> bool:
        if not self.choosable(material):
            return False
        self.materials[material] = side
        return True

    def choose_applicant(self, name: ApplicantField, side: MergeSide) -> bool:
        if all(d.field != name for d in self.preview.differences):
            return False
        self.applicant[name] = side
        return True

    def unresolved(self) -> list[ApplicantField]:
        """Differing applicant fields nobody has chosen a side for yet."""
        return [d.field for d in self.preview.differences if d.field not in self.applicant]

    @property
    def needs_confirmation(self) -> bool:
        return self.preview.applicant_mismatch

    def request(self, survivor: Survivor) -> MergeRequest:
        """The request for `POST /cases/{this}/merge`; `survivor` says which of the two that is."""
        other = self.preview.absorbed if survivor == "this" else self.preview.survivor
        differing = {row.material for row in self.preview.materials if row.differs}
        return MergeRequest(
            other_case=other.id,
            survivor=survivor,
            other_version=self.preview.absorbed.version,
            materials=[
                MaterialChoice(material=code, keep=side)
                for code, side in sorted(self.materials.items())
                if code in differing
            ],
            applicant=ApplicantResolution(**{str(k): v for k, v in self.applicant.items()}),
            confirm_applicant_mismatch=self.confirm_mismatch and self.needs_confirmation,
            note=self.note or None,
        )


async def merge(service: DeskService, choices: MergeChoices, survivor: Survivor) -> MergeResult:
    """Merge the two previewed cases as chosen (If-Match: the survivor's version as shown)."""
    request = choices.request(survivor)
    this_case = choices.preview.survivor if survivor == "this" else choices.preview.absorbed
    result = await service.ws.client.merge(
        this_case.id, request, version=choices.preview.survivor.version
    )
    remember_result(service, result)
    return result


async def merge_history(service: DeskService, case_id: int) -> list[MergeRecord]:
    """Every merge the case took part in, newest first."""
    found = await service.ws.client.case_merges(case_id)
    return sorted(found.items, key=lambda record: record.merged_at, reverse=True)


async def unmerge(service: DeskService, merge_id: int, note: str | None = None) -> MergeResult:
    """Undo a merge (supervisors): both cases return to their state before it."""
    result = await service.ws.client.unmerge(merge_id, note)
    remember_result(service, result)
    return result


def remember_result(service: DeskService, result: MergeResult) -> None:
    """Fold both cases of a merge or unmerge into the work list, the versions and the store."""
    for case in (result.absorbed, result.survivor):
        _remember_case(service, case)


def _remember_case(service: DeskService, case: Case) -> None:
    service.case_versions[case.id] = max(case.version, service.case_versions.get(case.id, 0))
    service.worklist.put_case(case)
    if service.session is not None:
        service.session.store.set_case(case)
