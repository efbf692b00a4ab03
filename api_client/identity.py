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

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

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

Sex = Literal["male", "female"]
PhoneKind = Literal["mobile", "landline"]

# ---------------------------------------------------------------------------------------------
# Resident ID number (GB 11643-1999)
# ---------------------------------------------------------------------------------------------

_RESIDENT_ID_LENGTH = 18
# ISO 7064 MOD 11-2 weights: 2**(17 - i) mod 11 for positions i = 0..16.
_RESIDENT_ID_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
# Check character indexed by (weighted sum mod 11).
_RESIDENT_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1900

# First two digits of GB/T 2260 province-level administrative division codes.
_PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)


@dataclass(frozen=True, slots=True)
class ResidentIdInfo:
    """What a valid resident ID number says about its holder.

    ``sequence`` is the three-digit order code (positions 15-17); its last digit is odd for men
    and even for women.
    """

    number: str
    region_code: str
    birth_date: date
    sex: Sex
    sequence: str


def resident_id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character ('0'-'9' or 'X') for 17 digits."""
    if len(first17) != _RESIDENT_ID_LENGTH - 1:
        raise ValueError(
            f"a resident ID check character needs exactly 17 digits, got {len(first17)} characters"
        )
    for index, char in enumerate(first17):
        if not ("0" <= char <= "9"):
            raise ValueError(
                f"resident ID number has {char!r} at position {index + 1}; "
                "the first 17 characters must be digits"
            )
    total = sum(
        int(char) * weight for char, weight in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True)
    )
    return _RESIDENT_ID_CHECK_CHARS[total % 11]


def _check_region_code(region_code: str) -> None:
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError(f"region code {region_code!r} must be exactly 6 digits")
    if region_code[:2] not in _PROVINCE_CODES:
        raise ValueError(
            f"region code {region_code} is implausible: {region_code[:2]} is not a "
            "province-level division code"
        )
    if region_code[2:] == "0000":
        raise ValueError(
            f"region code {region_code} is implausible: it names only a province, "
            "not a county-level division"
        )


def _check_birth_date(birth_date: date, today: date | None) -> None:
    if birth_date.year < _EARLIEST_BIRTH_YEAR:
        raise ValueError(
            f"birth date {birth_date.isoformat()} is implausible: it is before "
            f"{_EARLIEST_BIRTH_YEAR}"
        )
    reference = date.today() if today is None else today
    if birth_date > reference:
        raise ValueError(f"birth date {birth_date.isoformat()} is in the future")


def parse_resident_id(value: str, *, today: date | None = None) -> ResidentIdInfo:
    """Validate a resident ID number and return what it encodes.

    Surrounding whitespace is ignored and a lowercase check character ``x`` is accepted and
    normalised to ``X``. ``today`` (default: the current date) bounds the birth date.

    Raises:
        ValueError: with a message naming the problem: length, a non-digit, the wrong check
            character (and the expected one), an impossible, future or pre-1900 birth date, or an
            implausible region code.
    """
    number = value.strip().upper()
    if len(number) != _RESIDENT_ID_LENGTH:
        raise ValueError(f"resident ID number must be 18 characters long, got {len(number)}")
    for index, char in enumerate(number[:17]):
        if not ("0" <= char <= "9"):
            raise ValueError(
                f"resident ID number has {char!r} at position {index + 1}; "
                "the first 17 characters must be digits"
            )
    check = number[17]
    if not ("0" <= check <= "9" or check == "X"):
        raise ValueError(
            f"resident ID number has {value.strip()[17]!r} as its check character "
            "(position 18); it must be a digit or X"
        )
    expected = resident_id_check_char(number[:17])
    if check != expected:
        raise ValueError(
            f"resident ID number has the wrong check character: got {check!r}, "
            f"expected {expected!r} (a digit was probably mistyped)"
        )
    region_code = number[:6]
    _check_region_code(region_code)
    raw_date = number[6:14]
    try:
        birth_date = date(int(raw_date[:4]), int(raw_date[4:6]), int(raw_date[6:8]))
    except ValueError:
        raise ValueError(
            f"birth date {raw_date[:4]}-{raw_date[4:6]}-{raw_date[6:8]} (positions 7-14) "
            "is not a real calendar date"
        ) from None
    _check_birth_date(birth_date, today)
    sequence = number[14:17]
    sex: Sex = "male" if int(sequence[2]) % 2 == 1 else "female"
    return ResidentIdInfo(
        number=number,
        region_code=region_code,
        birth_date=birth_date,
        sex=sex,
        sequence=sequence,
    )


def normalise_resident_id(value: str) -> str:
    """Validate a resident ID number and return it normalised (trimmed, upper-case X)."""
    return parse_resident_id(value).number


def make_resident_id(
    region_code: str,
    birth_date: date,
    sequence: int,
    sex: Sex | None = None,
    *,
    today: date | None = None,
) -> str:
    """Build a valid resident ID number (for seeds, simulators and tests).

    ``sequence`` is the three-digit order code, 0-999; its last digit encodes the sex (odd for
    male). When ``sex`` is given it must agree with that parity; to draw a number for a chosen
    sex use e.g. ``2 * rng.randrange(500) + (1 if sex == "male" else 0)``.

    Raises:
        ValueError: for an implausible region code, an out-of-range birth date or sequence, or
            a sequence whose parity does not match ``sex``.
    """
    _check_region_code(region_code)
    _check_birth_date(birth_date, today)
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be between 0 and 999, got {sequence}")
    implied: Sex = "male" if sequence % 2 == 1 else "female"
    if sex is not None and sex != implied:
        raise ValueError(
            f"sequence {sequence:03d} encodes {implied} (odd = male, even = female), "
            f"but sex {sex!r} was requested"
        )
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def mask_resident_id(number: str) -> str:
    """Mask a resident ID number for display: keep the first 6 and last 4 characters.

    ``11010519491231002X`` becomes ``110105********002X``. Input that is too short to keep
    anything safely is masked entirely. The input is not validated.
    """
    text = number.strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


# ---------------------------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015) and organisation code (GB 11714)
# ---------------------------------------------------------------------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_LENGTH = 18
_CREDIT_CODE_WEIGHTS: tuple[int, ...] = (
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
)  # fmt: skip
_CREDIT_CODE_VALUES: dict[str, int] = {char: i for i, char in enumerate(CREDIT_CODE_ALPHABET)}
_ORG_CODE_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_BODY_VALUES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    **{chr(ord("A") + i): 10 + i for i in range(26)},
}


@dataclass(frozen=True, slots=True)
class CreditCodeInfo:
    """The parts of a valid unified social credit code.

    ``organisation_code`` is the nine-character GB 11714 code (positions 9-17). ``warnings``
    lists problems that do not make the code invalid, such as a wrong inner organisation-code
    check character.
    """

    number: str
    registration_authority: str
    entity_type: str
    region_code: str
    organisation_code: str
    warnings: tuple[str, ...] = ()


def _credit_code_alphabet_error(char: str, position: int) -> ValueError:
    hint = ""
    if char in "IOZSV":
        hint = " (the letters I, O, Z, S and V are never used)"
    return ValueError(
        f"unified social credit code has {char!r} at position {position}, which is not in "
        f"the code alphabet {CREDIT_CODE_ALPHABET}{hint}"
    )


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a code."""
    if len(first17) != _CREDIT_CODE_LENGTH - 1:
        raise ValueError(
            "a unified social credit code check character needs exactly 17 characters, "
            f"got {len(first17)}"
        )
    total = 0
    for index, char in enumerate(first17.upper()):
        value = _CREDIT_CODE_VALUES.get(char)
        if value is None:
            raise _credit_code_alphabet_error(char, index + 1)
        total += value * _CREDIT_CODE_WEIGHTS[index]
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_char(body: str) -> str:
    """Return the GB 11714 check character ('0'-'9' or 'X') for an 8-character code body."""
    if len(body) != 8:
        raise ValueError(
            f"an organisation code check character needs an 8-character body, got {len(body)}"
        )
    total = 0
    for index, char in enumerate(body.upper()):
        value = _ORG_CODE_BODY_VALUES.get(char)
        if value is None:
            raise ValueError(
                f"organisation code body has {char!r} at position {index + 1}; "
                "it must be a digit or a letter A-Z"
            )
        total += value * _ORG_CODE_WEIGHTS[index]
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def parse_credit_code(value: str) -> CreditCodeInfo:
    """Validate a unified social credit code and return its parts.

    Surrounding whitespace is ignored and lowercase letters are normalised to upper case. A
    wrong check character of the inner organisation code is reported in ``warnings``, not
    raised: codes issued in the wild do not always carry a correct one.

    Raises:
        ValueError: for a wrong length, a character outside the code alphabet, a wrong check
            character (the message names the expected one) or a non-digit region code.
    """
    number = value.strip().upper()
    if len(number) != _CREDIT_CODE_LENGTH:
        raise ValueError(
            f"unified social credit code must be 18 characters long, got {len(number)}"
        )
    for index, char in enumerate(number):
        if char not in _CREDIT_CODE_VALUES:
            raise _credit_code_alphabet_error(char, index + 1)
    expected = credit_code_check_char(number[:17])
    if number[17] != expected:
        raise ValueError(
            f"unified social credit code has the wrong check character: got {number[17]!r}, "
            f"expected {expected!r} (a character was probably mistyped)"
        )
    region_code = number[2:8]
    if not region_code.isdigit():
        raise ValueError(
            f"unified social credit code has region code {region_code!r} at positions 3-8; "
            "it must be 6 digits"
        )
    organisation_code = number[8:17]
    warnings: list[str] = []
    inner_expected = organisation_code_check_char(organisation_code[:8])
    if organisation_code[8] != inner_expected:
        warnings.append(
            f"organisation code {organisation_code} has check character "
            f"{organisation_code[8]!r}, expected {inner_expected!r} (GB 11714)"
        )
    return CreditCodeInfo(
        number=number,
        registration_authority=number[0],
        entity_type=number[1],
        region_code=region_code,
        organisation_code=organisation_code,
        warnings=tuple(warnings),
    )


def normalise_credit_code(value: str) -> str:
    """Validate a unified social credit code and return it normalised (trimmed, upper case)."""
    return parse_credit_code(value).number


def make_credit_code(
    region_code: str,
    organisation_body: str,
    *,
    registration_authority: str = "9",
    entity_type: str = "1",
) -> str:
    """Build a valid unified social credit code with a correct inner organisation code.

    ``organisation_body`` is the 8-character body of the GB 11714 organisation code, drawn from
    the credit code alphabet. The defaults ``"9"`` / ``"1"`` mean a company registered with
    the market regulator.

    Raises:
        ValueError: for a region code that is not 6 digits or characters outside the alphabet.
    """
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError(f"region code {region_code!r} must be exactly 6 digits")
    for name, part, length in (
        ("registration authority", registration_authority, 1),
        ("entity type", entity_type, 1),
        ("organisation body", organisation_body, 8),
    ):
        if len(part) != length:
            raise ValueError(f"{name} must be {length} character(s), got {part!r}")
        for char in part.upper():
            if char not in _CREDIT_CODE_VALUES:
                raise ValueError(
                    f"{name} {part!r} contains {char!r}, which is not in the credit code "
                    f"alphabet {CREDIT_CODE_ALPHABET}"
                )
    body = organisation_body.upper()
    first17 = (
        registration_authority.upper()
        + entity_type.upper()
        + region_code
        + body
        + organisation_code_check_char(body)
    )
    return first17 + credit_code_check_char(first17)


# ---------------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"1[3-9]\d{9}", re.ASCII)
# Three-digit area codes are 010 and 020-029; every other area code has four digits (03xx-09xx).
# Local numbers have 7 or 8 digits and never start with 0.
_LANDLINE_SPLIT_RE = re.compile(r"(0(?:10|2\d)|0[3-9]\d\d)([1-9]\d{6,7})", re.ASCII)
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-()]")
_PHONE_ALLOWED_RE = re.compile(r"[\d\s\-()+]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    """A normalised mainland phone number.

    ``number`` is 11 digits for a mobile and ``area-local`` (``0411-12345678``) for a landline.
    """

    number: str
    kind: PhoneKind
    area_code: str | None
    local_number: str


def parse_phone(value: str) -> PhoneInfo:
    """Validate a mainland mobile or landline number and return it normalised.

    Spaces, dashes and parentheses are ignored; a ``+86`` / ``0086`` / ``86`` country prefix is
    stripped from mobiles, and ``+86`` / ``0086`` followed by an area code without its leading 0
    is accepted for landlines.

    Raises:
        ValueError: when the value is neither a mobile (``1[3-9]`` + 9 digits) nor a landline
            (area code 0xx/0xxx + 7-8 digit local number).
    """
    text = value.strip()
    if not text:
        raise ValueError("phone number is empty")
    if not _PHONE_ALLOWED_RE.fullmatch(text) or "+" in text[1:]:
        raise ValueError(
            f"phone number {text!r} may contain only digits, spaces, dashes, parentheses "
            "and a leading +"
        )
    explicit_country = text.startswith(("+", "0086"))
    digits = _PHONE_SEPARATORS_RE.sub("", text).lstrip("+")
    if explicit_country:
        if not digits.startswith(("86", "0086")):
            raise ValueError(f"phone number {text!r} has a country code other than +86")
        digits = digits.removeprefix("00").removeprefix("86")
        if not _MOBILE_RE.fullmatch(digits) and not digits.startswith("0"):
            digits = "0" + digits  # the international format drops the area code's 0
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if _MOBILE_RE.fullmatch(digits):
        return PhoneInfo(number=digits, kind="mobile", area_code=None, local_number=digits)
    match = _LANDLINE_SPLIT_RE.fullmatch(digits)
    if match is None:
        if digits.startswith("1"):
            raise ValueError(
                f"phone number {text!r} is not a valid mainland mobile number "
                "(11 digits starting 13-19)"
            )
        raise ValueError(
            f"phone number {text!r} is neither a mainland mobile (11 digits starting 13-19) "
            "nor a landline (area code 0xx or 0xxx followed by a 7-8 digit local number)"
        )
    area_code, local = match.group(1), match.group(2)
    return PhoneInfo(
        number=f"{area_code}-{local}", kind="landline", area_code=area_code, local_number=local
    )


def normalise_phone(value: str) -> str:
    """Validate a phone number and return it normalised (see :func:`parse_phone`)."""
    return parse_phone(value).number


def mask_phone(number: str) -> str:
    """Mask a phone number for display.

    Mobiles keep the first 3 and last 4 digits (``138****5678``); landlines keep the area code
    and the last 4 digits (``0411-****5678``). Anything unparseable keeps only its last 4
    characters (or nothing, when it is that short).
    """
    try:
        info = parse_phone(number)
    except ValueError:
        text = number.strip()
        if len(text) <= 4:
            return "*" * len(text)
        return "*" * (len(text) - 4) + text[-4:]
    if info.kind == "mobile":
        return info.number[:3] + "*" * 4 + info.number[-4:]
    local = info.local_number
    return f"{info.area_code}-" + "*" * (len(local) - 4) + local[-4:]


# ---------------------------------------------------------------------------------------------
# Ticket numbers
# ---------------------------------------------------------------------------------------------

_TICKET_RE = re.compile(r"[A-Z]{1,2}\d{3,4}", re.ASCII)


def normalise_ticket_number(value: str) -> str:
    """Validate a hall ticket number (1-2 letters + 3-4 digits) and return it upper-cased.

    Raises:
        ValueError: when the value does not have that shape.
    """
    text = value.strip().upper()
    if not text.isascii() or not _TICKET_RE.fullmatch(text):
        raise ValueError(
            f"ticket number {value.strip()!r} must be 1-2 letters followed by 3-4 digits, "
            "such as A023 or AB1234"
        )
    return text


# ---------------------------------------------------------------------------------------------
# pydantic types
# ---------------------------------------------------------------------------------------------


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
