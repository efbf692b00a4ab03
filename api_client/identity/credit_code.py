"""Provides unified social credit codes (GB 32100-2015) and the GB 11714 organisation code
inside them: check characters, parsing and making."""

from __future__ import annotations

from dataclasses import dataclass

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
