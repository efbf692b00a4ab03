"""Provides validation, parsing and masking of identity numbers used on the wire.

Covered here, all pure Python and usable offline:

* resident ID numbers (GB 11643-1999, check character by ISO 7064 MOD 11-2), with the region
  code, birth date, sex and order code they carry;
* unified social credit codes (GB 32100-2015) and the GB 11714 organisation code inside them;
* mainland phone numbers (mobile and landline) and hall ticket numbers;
* pydantic v2 ``Annotated`` string types (:data:`ResidentId`, :data:`CreditCode`,
  :data:`PhoneNumber`, :data:`TicketNumber`) whose validated value is the normalised string;
* masking helpers for showing personal data on screen.

Every parser raises :class:`ValueError` whose message says what is wrong; inside pydantic models
the same message becomes the ``msg`` of the :class:`pydantic.ValidationError`.
"""

from __future__ import annotations

from api_client.identity.credit_code import (
    CREDIT_CODE_ALPHABET,
    CreditCodeInfo,
    credit_code_check_char,
    make_credit_code,
    normalise_credit_code,
    organisation_code_check_char,
    parse_credit_code,
)
from api_client.identity.phone import PhoneInfo, PhoneKind, mask_phone, normalise_phone, parse_phone
from api_client.identity.resident_id import (
    ResidentIdInfo,
    Sex,
    make_resident_id,
    mask_resident_id,
    normalise_resident_id,
    parse_resident_id,
    resident_id_check_char,
)
from api_client.identity.tickets import normalise_ticket_number
from api_client.identity.types import CreditCode, PhoneNumber, ResidentId, TicketNumber

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "CreditCode",
    "CreditCodeInfo",
    "PhoneInfo",
    "PhoneKind",
    "PhoneNumber",
    "ResidentId",
    "ResidentIdInfo",
    "Sex",
    "TicketNumber",
    "credit_code_check_char",
    "make_credit_code",
    "make_resident_id",
    "mask_phone",
    "mask_resident_id",
    "normalise_credit_code",
    "normalise_phone",
    "normalise_resident_id",
    "normalise_ticket_number",
    "organisation_code_check_char",
    "parse_credit_code",
    "parse_phone",
    "parse_resident_id",
    "resident_id_check_char",
]
