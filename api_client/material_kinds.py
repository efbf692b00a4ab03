"""Provides what each kind of material carries: the facts the clerk types from it (the facts
form asks only these) and so the checks the server runs on it (an expiry check only for a
document that expires)."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["DOCUMENT_FACTS", "MATERIAL_KINDS", "MaterialKind", "document_facts", "expires"]

MaterialKind = Literal["id_card", "business_licence", "certificate", "form", "other"]
MATERIAL_KINDS: tuple[str, ...] = get_args(MaterialKind)

DOCUMENT_FACTS: dict[str, tuple[str, ...]] = {
    # a resident ID card: everything, and it expires
    "id_card": ("holder_name", "id_number", "birth_date", "sex", "valid_until"),
    # a business licence: the firm, its credit code and its operating term
    "business_licence": ("holder_name", "id_number", "valid_until"),
    # a certificate (birth, marriage, household register, title deed…): it names a person
    "certificate": ("holder_name", "id_number", "birth_date", "sex"),
    # a form the applicant filled in, and anything else: whose it is
    "form": ("holder_name", "id_number"),
    "other": ("holder_name", "id_number"),
}


def expires(kind: str, needs_expiry_check: bool = False) -> bool:
    """Whether a material of this kind has an expiry date (the catalogue may say so of any)."""
    return needs_expiry_check or "valid_until" in DOCUMENT_FACTS.get(kind, ())


def document_facts(kind: str, needs_expiry_check: bool = False) -> tuple[str, ...]:
    """The facts a material of this kind carries, in the order they are printed."""
    facts = DOCUMENT_FACTS.get(kind, DOCUMENT_FACTS["other"])
    if expires(kind, needs_expiry_check) and "valid_until" not in facts:
        facts = (*facts, "valid_until")
    return facts
