"""Provides the pydantic v2 `Annotated` string types of the identity numbers (`ResidentId`,
`CreditCode`, `PhoneNumber`, `TicketNumber`): the validated value is the normalised string and
a parser's message becomes the error's `msg`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from api_client.identity.credit_code import normalise_credit_code
from api_client.identity.phone import normalise_phone
from api_client.identity.resident_id import normalise_resident_id
from api_client.identity.tickets import normalise_ticket_number


def _pydantic_validator(error_type: str, func: Callable[[str], str]) -> Callable[[str], str]:
    """Wrap ``func`` so its ValueError message becomes the pydantic error ``msg`` verbatim."""

    def validate(value: str) -> str:
        try:
            return func(value)
        except ValueError as exc:
            raise PydanticCustomError(error_type, "{reason}", {"reason": str(exc)}) from None

    validate.__name__ = f"validate_{error_type}"
    return validate


def _string_schema(pattern: str, description: str, example: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": pattern,
        "description": description,
        "examples": [example],
    }


ResidentId = Annotated[
    str,
    AfterValidator(_pydantic_validator("resident_id", normalise_resident_id)),
    WithJsonSchema(
        _string_schema(
            r"^[0-9]{17}[0-9X]$",
            "Resident ID number (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check "
            "character (0-9 or X; lowercase x is accepted and normalised). The region code and "
            "birth date inside it are validated too.",
            "11010519491231002X",
        )
    ),
]
"""A validated resident ID number, normalised to upper-case X."""

CreditCode = Annotated[
    str,
    AfterValidator(_pydantic_validator("credit_code", normalise_credit_code)),
    WithJsonSchema(
        _string_schema(
            r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
            "Unified social credit code (GB 32100-2015): 18 characters over "
            "0-9 and A-Y without I, O, Z, S, V, ending in a check character. Lowercase is "
            "accepted and normalised to upper case.",
            "91350100M000100Y43",
        )
    ),
]
"""A validated unified social credit code, normalised to upper case."""

PhoneNumber = Annotated[
    str,
    AfterValidator(_pydantic_validator("phone_number", normalise_phone)),
    WithJsonSchema(
        _string_schema(
            r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-[1-9][0-9]{6,7})$",
            "Mainland phone number: an 11-digit mobile, or a landline as area code, dash and "
            "7-8 digit local number. A +86 prefix, spaces and dashes are accepted on input and "
            "normalised away.",
            "13812345678",
        )
    ),
]
"""A validated mainland phone number: 11-digit mobile or ``0411-12345678`` landline."""

TicketNumber = Annotated[
    str,
    AfterValidator(_pydantic_validator("ticket_number", normalise_ticket_number)),
    WithJsonSchema(
        _string_schema(
            r"^[A-Z]{1,2}[0-9]{3,4}$",
            "Hall ticket number: 1-2 letters and 3-4 digits; normalised to upper case.",
            "A023",
        )
    ),
]
"""A validated hall ticket number, normalised to upper case."""
