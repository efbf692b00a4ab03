"""Provides mainland phone numbers (mobile and landline): parsing, normalising and masking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PhoneKind = Literal["mobile", "landline"]

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
