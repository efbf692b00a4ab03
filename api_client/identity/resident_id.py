"""Provides resident ID numbers (GB 11643-1999): the check character (ISO 7064 MOD 11-2), the
region code, birth date, sex and order code they carry, parsing, making and masking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["male", "female"]

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
