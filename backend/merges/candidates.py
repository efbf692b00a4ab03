"""Provides merge candidates: the open cases of the same hall that may be the same matter as a
case (or as the visitor a clerk is serving), each with why it matched and a score.

Only open cases (submitted, under review, supplement requested, accepted) of the same service
item or a related one (`related` in the catalogue, either direction) are considered. Ranked:

1. `exact` (score 100): the same applicant ID number and the same service item;
2. `related_item` (85): the same applicant ID number and a related service item;
3. `near` (at most 80): a different applicant record that agrees on enough independent facts:
   - an ID number one transposition (any two positions swapped) or one position away from a
     valid stored ID number, together with the same name, phone or birth date;
   - or the same name *and* the same phone;
   - or the same unified social credit code (an organisation's own code, or one read off a
     business-licence document of the other case).
   A shared name alone, a shared phone alone (families share phones) or a near ID number alone
   never make a candidate, so two different people called 王伟 are never proposed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Text, cast, or_, select

from api_client.identity import (
    mask_phone,
    mask_resident_id,
    parse_credit_code,
    resident_id_check_char,
)
from backend.auth.sessions import Principal
from backend.cases.hall_intake import ticket_row
from backend.cases.records import case_row, case_select
from backend.db.schema import applicants, case_checklist, case_materials, cases, service_items

OPEN_STATUSES = ("submitted", "under_review", "supplement_requested", "accepted")
POOL_LIMIT = 200
RESIDENT_CHARS = "0123456789"


@dataclass
class Probe:
    """What candidates are looked for: an applicant and a service item in a hall."""

    hall_id: int
    applicant_id: int | None
    kind: str
    id_number: str
    name: str
    phone: str | None
    birth_date: date | None
    item_id: int
    exclude: set[int] = field(default_factory=set)
    credit_codes: set[str] = field(default_factory=set)
    accepted: bool = False


def related_item_ids(conn: Connection, hall_id: int, item_id: int) -> set[int]:
    """Items related to `item_id` in either direction (the catalogue's `related` codes)."""
    rows = conn.execute(
        select(service_items.c.id, service_items.c.code, service_items.c.details).where(
            service_items.c.hall_id == hall_id
        )
    ).all()
    by_code = {r.code: r.id for r in rows}
    mine = next((r for r in rows if r.id == item_id), None)
    if mine is None:
        return set()
    related = {by_code[c] for c in (mine.details or {}).get("related", []) if c in by_code}
    for r in rows:
        if mine.code in (r.details or {}).get("related", []):
            related.add(r.id)
    related.discard(item_id)
    return related


def _valid_resident(number: str) -> bool:
    try:
        return resident_id_check_char(number[:17]) == number[17]
    except ValueError:
        return False


def id_variants(number: str) -> dict[str, str]:
    """Valid resident ID numbers one transposition or one position away → the reason."""
    if len(number) != 18:
        return {}
    found: dict[str, str] = {}
    chars = list(number)
    for i in range(18):
        for j in range(i + 1, 18):
            if chars[i] == chars[j]:
                continue
            swapped = chars.copy()
            swapped[i], swapped[j] = swapped[j], swapped[i]
            text = "".join(swapped)
            if _valid_resident(text):
                found.setdefault(text, "id_number_one_swap")
    for i in range(18):
        for char in RESIDENT_CHARS + ("X" if i == 17 else ""):
            if char == chars[i]:
                continue
            text = number[:i] + char + number[i + 1 :]
            if _valid_resident(text):
                found.setdefault(text, "id_number_one_digit")
    found.pop(number, None)
    return found


def _credit_code(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_credit_code(value).number
    except (ValueError, AttributeError):
        return None


def credit_codes_of(conn: Connection, case_ids: list[int]) -> dict[int, set[str]]:
    """Case → unified social credit codes read off its documents (business licences)."""
    codes: dict[int, set[str]] = {case_id: set() for case_id in case_ids}
    if not case_ids:
        return codes
    for table in (case_materials, case_checklist):
        rows = conn.execute(
            select(table.c.case_id, table.c.document).where(
                table.c.case_id.in_(case_ids), table.c.document.is_not(None)
            )
        )
        for case_id, document in rows:
            doc = document or {}
            if doc.get("id_kind") not in (None, "credit_code"):
                continue
            number = doc.get("id_number")
            if doc.get("id_kind") is None and isinstance(number, str) and _valid_resident(number):
                continue
            code = _credit_code(number)
            if code:
                codes[case_id].add(code)
    return codes


def probe_for_case(conn: Connection, row: Any) -> Probe:
    """The probe of an existing case (`backend.cases.records.case_row`)."""
    codes = credit_codes_of(conn, [row.id])[row.id]
    if row.applicant_kind == "organisation":
        codes.add(row.applicant_id_number)
    return Probe(
        hall_id=row.hall_id,
        applicant_id=row.applicant_id,
        kind=row.applicant_kind,
        id_number=row.applicant_id_number,
        name=row.applicant_name,
        phone=row.applicant_phone,
        birth_date=row.applicant_birth_date,
        item_id=row.service_item_id,
        exclude={row.id},
        credit_codes=codes,
        accepted=row.accepted_on is not None,
    )


def _documents_mentioning(codes: set[str]) -> Any:
    """Ids of cases whose stored documents mention one of `codes` (confirmed afterwards)."""
    selects = []
    for table in (case_materials, case_checklist):
        text = cast(table.c.document, Text)
        selects.append(
            select(table.c.case_id).where(or_(*(text.contains(code) for code in sorted(codes))))
        )
    return selects[0].union(selects[1])


def find_candidates(conn: Connection, probe: Probe) -> list[dict[str, Any]]:
    """The ranked candidates for `probe` (the `MergeCandidate` bodies)."""
    related = related_item_ids(conn, probe.hall_id, probe.item_id)
    variants = id_variants(probe.id_number) if probe.kind == "person" else {}
    matches = [applicants.c.name == probe.name]
    if probe.applicant_id is not None:
        matches.append(cases.c.applicant_id == probe.applicant_id)
    if probe.phone:
        matches.append(applicants.c.phone == probe.phone)
    if variants:
        matches.append(applicants.c.id_number.in_(sorted(variants)))
    if probe.credit_codes:
        matches.append(applicants.c.id_number.in_(sorted(probe.credit_codes)))
        matches.append(cases.c.id.in_(_documents_mentioning(probe.credit_codes)))
    statement = (
        case_select()
        .where(
            cases.c.hall_id == probe.hall_id,
            cases.c.status.in_(OPEN_STATUSES),
            cases.c.service_item_id.in_([probe.item_id, *sorted(related)]),
            or_(*matches),
        )
        .order_by(cases.c.id.desc())
        .limit(POOL_LIMIT)
    )
    if probe.exclude:
        statement = statement.where(cases.c.id.not_in(sorted(probe.exclude)))
    rows = conn.execute(statement).all()
    codes = credit_codes_of(conn, [r.id for r in rows]) if probe.credit_codes else {}
    found: list[dict[str, Any]] = []
    for row in rows:
        theirs = set(codes.get(row.id, set()))
        if row.applicant_kind == "organisation":
            theirs.add(row.applicant_id_number)
        scored = _score(probe, row, row.service_item_id == probe.item_id, variants, theirs)
        if scored is None:
            continue
        match, reasons, score = scored
        blocked = None
        if probe.accepted and row.accepted_on is not None:
            blocked = "Both cases have been accepted (受理); they cannot be merged."
        found.append(
            {
                "case": case_summary(row),
                "match": match,
                "reasons": reasons,
                "score": score,
                "blocked": blocked,
            }
        )
    tiers = {"exact": 0, "related_item": 1, "near": 2}
    found.sort(
        key=lambda c: (tiers[c["match"]], -c["score"], -c["case"]["submitted_at"].timestamp())
    )
    return found


def _score(
    probe: Probe, row: Any, same_item: bool, variants: dict[str, str], theirs: set[str]
) -> tuple[str, list[str], int] | None:
    item_reason = "same_service_item" if same_item else "related_service_item"
    if row.applicant_id == probe.applicant_id or row.applicant_id_number == probe.id_number:
        if same_item:
            return "exact", ["same_id_number", item_reason], 100
        return "related_item", ["same_id_number", item_reason], 85
    reasons: list[str] = []
    points = 0
    near_id = variants.get(row.applicant_id_number)
    if near_id:
        reasons.append(near_id)
        points += 40
    same_name = row.applicant_name == probe.name
    same_phone = bool(probe.phone) and row.applicant_phone == probe.phone
    same_birth = probe.birth_date is not None and row.applicant_birth_date == probe.birth_date
    same_code = bool(probe.credit_codes & theirs)
    for flag, reason, value in (
        (same_name, "same_name", 25),
        (same_phone, "same_phone", 25),
        (same_birth, "same_birth_date", 10),
        (same_code, "same_credit_code", 50),
    ):
        if flag:
            reasons.append(reason)
            points += value
    qualifies = (
        (near_id is not None and (same_name or same_phone or same_birth))
        or (same_name and same_phone)
        or same_code
    )
    if not qualifies:
        return None
    reasons.append(item_reason)
    points += 10 if same_item else 0
    return "near", reasons, min(points, 80)


def case_summary(row: Any) -> dict[str, Any]:
    """The `CaseSummary` body of a case row (from the pool select or `case_row`)."""
    return {
        "id": row.id,
        "number": row.number,
        "service_item": row.item_code,
        "channel": row.channel,
        "status": row.status,
        "applicant": {
            "kind": row.applicant_kind,
            "id_number_masked": mask_resident_id(row.applicant_id_number),
            "name": row.applicant_name,
            "phone_masked": mask_phone(row.applicant_phone) if row.applicant_phone else None,
        },
        "submitted_at": row.submitted_at,
        "accepted_on": row.accepted_on,
        "deadline": row.deadline_on,
        "ticket_id": row.ticket_id,
        "version": row.version,
    }


def candidates_for_case(conn: Connection, case_id: int) -> dict[str, Any]:
    row = case_row(conn, case_id)
    return {
        "case": case_id,
        "ticket": None,
        "items": find_candidates(conn, probe_for_case(conn, row)),
    }


def candidates_for_ticket(conn: Connection, principal: Principal, ticket_id: int) -> dict[str, Any]:
    """Candidates for the visitor holding a ticket: its case's, else its applicant's."""
    ticket = ticket_row(conn, ticket_id)
    principal.require_hall(ticket.hall_id)
    if ticket.case_id is not None:
        probe = probe_for_case(conn, case_row(conn, ticket.case_id))
    elif ticket.applicant_id is not None:
        person = conn.execute(
            select(applicants).where(applicants.c.id == ticket.applicant_id)
        ).one()
        probe = Probe(
            hall_id=ticket.hall_id,
            applicant_id=person.id,
            kind=person.kind,
            id_number=person.id_number,
            name=person.name,
            phone=person.phone,
            birth_date=person.birth_date,
            item_id=ticket.service_item_id,
            credit_codes={person.id_number} if person.kind == "organisation" else set(),
        )
    else:
        return {"case": None, "ticket": ticket_id, "items": []}
    return {"case": ticket.case_id, "ticket": ticket_id, "items": find_candidates(conn, probe)}
