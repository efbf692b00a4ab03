"""Tests for api_client.identity: resident IDs, credit codes, phones, tickets, pydantic types."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import JsonSchemaMode

from api_client.identity import (
    CREDIT_CODE_ALPHABET,
    CreditCode,
    PhoneNumber,
    ResidentId,
    Sex,
    TicketNumber,
    credit_code_check_char,
    make_credit_code,
    make_resident_id,
    mask_phone,
    mask_resident_id,
    normalise_phone,
    normalise_ticket_number,
    organisation_code_check_char,
    parse_credit_code,
    parse_phone,
    parse_resident_id,
    resident_id_check_char,
)

# The example number published with GB 11643-1999.
PUBLISHED_ID = "11010519491231002X"
TODAY = date(2025, 6, 1)

# Unified social credit codes that are publicly published and were checked against the
# algorithm here: both the outer GB 32100 check and the inner GB 11714 check are correct.
# 91350100M000100Y43 is the example commonly cited in explanations of GB 32100-2015;
# the others are widely published business-licence codes (reported as those of Huawei
# Technologies Co., Ltd. and Shenzhen Tencent Computer Systems Co., Ltd.).
PUBLISHED_CREDIT_CODES = ["91350100M000100Y43", "914403001922038216", "91440300708461136T"]


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


# --- resident ID --------------------------------------------------------------------------------


def test_published_resident_id_is_valid() -> None:
    info = parse_resident_id(PUBLISHED_ID)
    assert info.number == PUBLISHED_ID
    assert info.region_code == "110105"
    assert info.birth_date == date(1949, 12, 31)
    assert info.sequence == "002"
    assert info.sex == "female"


def test_check_char_of_published_example() -> None:
    assert resident_id_check_char(PUBLISHED_ID[:17]) == "X"


@pytest.mark.parametrize("position", range(18))
def test_every_single_character_change_is_rejected(position: int) -> None:
    original = PUBLISHED_ID[position]
    replacements = "0123456789X" if position == 17 else "0123456789"
    for replacement in replacements:
        if replacement == original:
            continue
        mutated = PUBLISHED_ID[:position] + replacement + PUBLISHED_ID[position + 1 :]
        with pytest.raises(ValueError):
            parse_resident_id(mutated)


def test_wrong_check_char_names_expected() -> None:
    with pytest.raises(ValueError, match=r"expected 'X'") as excinfo:
        parse_resident_id(PUBLISHED_ID[:17] + "5")
    assert "check character" in str(excinfo.value)


def test_lowercase_x_is_accepted_and_normalised() -> None:
    info = parse_resident_id(PUBLISHED_ID.lower())
    assert info.number == PUBLISHED_ID
    assert parse_resident_id(f"  {PUBLISHED_ID.lower()} ").number == PUBLISHED_ID


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "18 characters long, got 0"),
        (PUBLISHED_ID[:17], "18 characters long, got 17"),
        (PUBLISHED_ID + "1", "18 characters long, got 19"),
        ("1101051949A231002X", "'A' at position 11"),
        ("11010519491231002Y", "must be a digit or X"),
    ],
)
def test_format_errors(value: str, fragment: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_resident_id(value)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    ("birth", "fragment"),
    [
        ("19490230", "1949-02-30"),
        ("19491301", "1949-13-01"),
        ("19490100", "1949-01-00"),
        ("19010229", "1901-02-29"),
    ],
)
def test_impossible_birth_date_is_rejected(birth: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="not a real calendar date") as excinfo:
        parse_resident_id(_with_check(f"110105{birth}002"))
    assert fragment in str(excinfo.value)


def test_leap_day_is_accepted() -> None:
    assert parse_resident_id(_with_check("11010520000229002")).birth_date == date(2000, 2, 29)


def test_future_birth_date_is_rejected() -> None:
    with pytest.raises(ValueError, match="future") as excinfo:
        parse_resident_id(_with_check("11010520250602002"), today=TODAY)
    assert "2025-06-02" in str(excinfo.value)
    # The same day is fine.
    assert parse_resident_id(_with_check("11010520250601002"), today=TODAY)


def test_future_birth_date_uses_today_by_default() -> None:
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(ValueError, match="future"):
        parse_resident_id(_with_check(f"110105{tomorrow:%Y%m%d}002"))


def test_birth_date_before_1900_is_rejected() -> None:
    with pytest.raises(ValueError, match="before 1900") as excinfo:
        parse_resident_id(_with_check("11010518991231002"))
    assert "1899-12-31" in str(excinfo.value)


@pytest.mark.parametrize(
    ("region", "fragment"),
    [
        ("990105", "99 is not a province-level"),
        ("000000", "00 is not a province-level"),
        ("160105", "16 is not a province-level"),
        ("720101", "72 is not a province-level"),
        ("110000", "names only a province"),
        ("440000", "names only a province"),
    ],
)
def test_implausible_region_is_rejected(region: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="region code") as excinfo:
        parse_resident_id(_with_check(f"{region}19491231002"))
    assert fragment in str(excinfo.value)
    assert region in str(excinfo.value)


@pytest.mark.parametrize(
    "region", ["110101", "150102", "330106", "460100", "650102", "810101", "820101"]
)
def test_plausible_regions_are_accepted(region: str) -> None:
    assert parse_resident_id(_with_check(f"{region}19800101001")).region_code == region


@pytest.mark.parametrize(
    ("order", "sex"),
    [
        ("001", "male"),
        ("002", "female"),
        ("013", "male"),
        ("998", "female"),
        ("999", "male"),
        ("000", "female"),
    ],
)
def test_sex_comes_from_the_17th_digit(order: str, sex: str) -> None:
    assert parse_resident_id(_with_check(f"11010519800101{order}")).sex == sex


def test_make_resident_id_rebuilds_published_example() -> None:
    assert make_resident_id("110105", date(1949, 12, 31), 2, "female") == PUBLISHED_ID
    assert make_resident_id("110105", date(1949, 12, 31), 2) == PUBLISHED_ID


def test_make_resident_id_rejects_sex_parity_mismatch() -> None:
    with pytest.raises(ValueError, match="encodes female"):
        make_resident_id("110105", date(1949, 12, 31), 2, "male")


@pytest.mark.parametrize(
    ("region", "birth", "sequence", "fragment"),
    [
        ("990105", date(1980, 1, 1), 1, "province-level"),
        ("11010", date(1980, 1, 1), 1, "6 digits"),
        ("110105", date(1899, 1, 1), 1, "before 1900"),
        ("110105", date(1980, 1, 1), 1000, "between 0 and 999"),
        ("110105", date(1980, 1, 1), -1, "between 0 and 999"),
    ],
)
def test_make_resident_id_rejects_bad_input(
    region: str, birth: date, sequence: int, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        make_resident_id(region, birth, sequence)


_REGIONS = ["110105", "310115", "440305", "210202", "510107", "650102", "820001", "710101"]


@pytest.mark.parametrize("seed", range(5))
def test_make_resident_id_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    start = date(1900, 1, 1).toordinal()
    end = TODAY.toordinal()
    for _ in range(200):
        region = rng.choice(_REGIONS)
        birth = date.fromordinal(rng.randint(start, end))
        sex: Sex = "male" if rng.random() < 0.5 else "female"
        sequence = 2 * rng.randrange(500) + (1 if sex == "male" else 0)
        number = make_resident_id(region, birth, sequence, sex, today=TODAY)
        info = parse_resident_id(number, today=TODAY)
        assert info.number == number
        assert info.region_code == region
        assert info.birth_date == birth
        assert info.sex == sex
        assert info.sequence == f"{sequence:03d}"


def test_mask_resident_id() -> None:
    assert mask_resident_id(PUBLISHED_ID) == "110105********002X"
    assert mask_resident_id("") == ""
    assert mask_resident_id("12345") == "*****"


# --- unified social credit code -------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_published_credit_codes_are_valid(code: str) -> None:
    info = parse_credit_code(code)
    assert info.number == code
    assert info.warnings == ()
    assert info.registration_authority == code[0]
    assert info.entity_type == code[1]
    assert info.region_code == code[2:8]
    assert info.organisation_code == code[8:17]
    assert credit_code_check_char(code[:17]) == code[17]
    assert organisation_code_check_char(code[8:16]) == code[16]


def test_credit_code_parts() -> None:
    info = parse_credit_code("91350100M000100Y43")
    assert info.registration_authority == "9"
    assert info.entity_type == "1"
    assert info.region_code == "350100"
    assert info.organisation_code == "M000100Y4"


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("91350100M000100Y4", "3"),
        ("91440300192203821", "6"),
        ("91440300708461136", "T"),
        # Weighted sum divisible by 31 gives check value 0 (31 -> 0).
        ("00000000000000000", "0"),
    ],
)
def test_credit_code_check_char_examples(first17: str, check: str) -> None:
    assert credit_code_check_char(first17) == check


@pytest.mark.parametrize(
    ("body", "check"),
    [("M000100Y", "4"), ("19220382", "1"), ("70846113", "6"), ("00000000", "0")],
)
def test_organisation_code_check_char_examples(body: str, check: str) -> None:
    assert organisation_code_check_char(body) == check


def test_organisation_code_check_char_x() -> None:
    # Find a body whose check value is 10, i.e. 'X', and confirm the mapping.
    body = next(
        f"{n:08d}" for n in range(10_000) if organisation_code_check_char(f"{n:08d}") == "X"
    )
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    assert 11 - total % 11 == 10


def test_wrong_inner_organisation_check_is_a_warning() -> None:
    # Replace the inner check character (position 17) and recompute the outer check.
    first17 = "91350100M000100Y" + "5"
    code = first17 + credit_code_check_char(first17)
    info = parse_credit_code(code)
    assert info.number == code
    assert len(info.warnings) == 1
    assert "expected '4'" in info.warnings[0]
    assert "M000100Y5" in info.warnings[0]


def test_wrong_credit_check_char_names_expected() -> None:
    with pytest.raises(ValueError, match=r"got '4', expected '3'"):
        parse_credit_code("91350100M000100Y44")


@pytest.mark.parametrize("position", range(18))
def test_every_single_credit_code_change_is_rejected(position: int) -> None:
    code = PUBLISHED_CREDIT_CODES[0]
    for replacement in CREDIT_CODE_ALPHABET:
        if replacement == code[position]:
            continue
        with pytest.raises(ValueError):
            parse_credit_code(code[:position] + replacement + code[position + 1 :])


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100YI3", "'I' at position 17"),
        ("91350100M00O100Y43", "'O' at position 12"),
        ("9135010ZM000100Y43", "'Z' at position 8"),
        ("S1350100M000100Y43", "'S' at position 1"),
        ("91350100M000100V43", "'V' at position 16"),
        ("91350100M000100-43", "'-' at position 16"),
    ],
)
def test_credit_code_alphabet_errors(code: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="not in the code alphabet") as excinfo:
        parse_credit_code(code)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433"])
def test_credit_code_length_errors(code: str) -> None:
    with pytest.raises(ValueError, match="18 characters long"):
        parse_credit_code(code)


def test_credit_code_region_must_be_digits() -> None:
    first17 = "913501A0M000100Y4"
    with pytest.raises(ValueError, match="region code"):
        parse_credit_code(first17 + credit_code_check_char(first17))


def test_credit_code_lowercase_is_normalised() -> None:
    assert parse_credit_code(" 91350100m000100y43 ").number == "91350100M000100Y43"


def test_make_credit_code_rebuilds_published_examples() -> None:
    assert make_credit_code("350100", "M000100Y") == "91350100M000100Y43"
    assert make_credit_code("440300", "19220382") == "914403001922038216"


@pytest.mark.parametrize("seed", range(3))
def test_make_credit_code_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        region = f"{rng.randrange(110000, 660000):06d}"
        body = "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(8))
        authority = rng.choice("159Y")
        entity = rng.choice("123")
        code = make_credit_code(region, body, registration_authority=authority, entity_type=entity)
        info = parse_credit_code(code)
        assert info.warnings == ()
        assert info.region_code == region
        assert info.organisation_code[:8] == body
        assert info.registration_authority == authority
        assert info.entity_type == entity


@pytest.mark.parametrize(
    ("region", "body", "fragment"),
    [
        ("35010", "M000100Y", "6 digits"),
        ("350100", "M000100", "8 character"),
        ("350100", "M00010OY", "'O'"),
    ],
)
def test_make_credit_code_rejects_bad_input(region: str, body: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        make_credit_code(region, body)


# --- phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("0411-12345678", "0411-12345678"),
        ("041112345678", "0411-12345678"),
        ("(0411) 1234 5678", "0411-12345678"),
        ("0411-2345678", "0411-2345678"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("021 6234 5678", "021-62345678"),
        ("+86 411 12345678", "0411-12345678"),
        ("+86-10-12345678", "010-12345678"),
    ],
)
def test_phone_normalisation(value: str, expected: str) -> None:
    assert normalise_phone(value) == expected


def test_parse_phone_kinds() -> None:
    mobile = parse_phone("13812345678")
    assert (mobile.kind, mobile.area_code) == ("mobile", None)
    landline = parse_phone("0411-12345678")
    assert (landline.kind, landline.area_code, landline.local_number) == (
        "landline",
        "0411",
        "12345678",
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("12812345678", "mobile"),
        ("1381234567", "mobile"),
        ("138123456789", "mobile"),
        ("0411-123456", "landline"),
        ("0411-123456789", "landline"),
        ("0411-02345678", "landline"),
        ("12345", "mobile"),
        ("abc13812345678", "only digits"),
        ("138+12345678", "only digits"),
        ("+1 212 555 0100", "other than +86"),
        ("１３８１２３４５６７８", "only digits"),
    ],
)
def test_invalid_phones(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="phone number") as excinfo:
        normalise_phone(value)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("0411-12345678", "0411-****5678"),
        ("010-2345678", "010-***5678"),
        ("garbage-123456", "**********3456"),
        ("123", "***"),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


# --- ticket numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("A023", "A023"), ("a023", "A023"), ("AB1234", "AB1234"), (" ab123 ", "AB123")],
)
def test_ticket_numbers(value: str, expected: str) -> None:
    assert normalise_ticket_number(value) == expected


@pytest.mark.parametrize(
    "value", ["", "A02", "A12345", "ABC123", "123", "A-023", "0A23", "Ａ023", "AB12C"]
)
def test_invalid_ticket_numbers(value: str) -> None:
    with pytest.raises(ValueError, match="1-2 letters followed by 3-4 digits"):
        normalise_ticket_number(value)


# --- pydantic types -----------------------------------------------------------------------------


class Applicant(BaseModel):
    resident_id: ResidentId
    credit_code: CreditCode | None = None
    phone: PhoneNumber
    ticket: TicketNumber


def test_model_normalises_valid_values() -> None:
    applicant = Applicant(
        resident_id=PUBLISHED_ID.lower(),
        credit_code="91350100m000100y43",
        phone="+86 138-1234-5678",
        ticket="a023",
    )
    assert applicant.resident_id == PUBLISHED_ID
    assert applicant.credit_code == "91350100M000100Y43"
    assert applicant.phone == "13812345678"
    assert applicant.ticket == "A023"
    assert Applicant.model_validate_json(applicant.model_dump_json()) == applicant


@pytest.mark.parametrize(
    ("field", "value", "fragment", "error_type"),
    [
        ("resident_id", PUBLISHED_ID[:17] + "1", "expected 'X'", "resident_id"),
        ("resident_id", _with_check("11010519490230002"), "1949-02-30", "resident_id"),
        ("credit_code", "91350100M000100Y44", "expected '3'", "credit_code"),
        ("phone", "12345", "phone number", "phone_number"),
        ("ticket", "A1", "1-2 letters", "ticket_number"),
    ],
)
def test_model_rejects_invalid_values(
    field: str, value: str, fragment: str, error_type: str
) -> None:
    data = {"resident_id": PUBLISHED_ID, "phone": "13812345678", "ticket": "A023"}
    data[field] = value
    with pytest.raises(ValidationError) as excinfo:
        Applicant.model_validate(data)
    errors = excinfo.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == (field,)
    assert errors[0]["type"] == error_type
    assert fragment in errors[0]["msg"]
    assert not errors[0]["msg"].startswith("Value error")
    assert field in str(excinfo.value)


def test_model_rejects_non_strings() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Applicant.model_validate({"resident_id": 110105, "phone": "13812345678", "ticket": "A023"})
    assert excinfo.value.errors()[0]["loc"] == ("resident_id",)


@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_json_schema_shows_string_patterns(mode: JsonSchemaMode) -> None:
    schema = Applicant.model_json_schema(mode=mode)
    properties = schema["properties"]
    resident = properties["resident_id"]
    assert resident["type"] == "string"
    assert resident["pattern"] == r"^[0-9]{17}[0-9X]$"
    assert "GB 11643-1999" in resident["description"]
    assert resident["examples"] == [PUBLISHED_ID]
    phone = properties["phone"]
    assert phone["type"] == "string"
    assert "pattern" in phone
    assert phone["examples"] == ["13812345678"]
    ticket = properties["ticket"]
    assert ticket["pattern"] == r"^[A-Z]{1,2}[0-9]{3,4}$"
    credit_variants = properties["credit_code"]["anyOf"]
    credit = next(v for v in credit_variants if v.get("type") == "string")
    assert "GB 32100-2015" in credit["description"]
    assert credit["examples"] == ["91350100M000100Y43"]


def test_schema_examples_validate_against_their_own_pattern_and_type() -> None:
    schema = Applicant.model_json_schema()
    for name in ("resident_id", "phone", "ticket"):
        prop = schema["properties"][name]
        for example in prop["examples"]:
            assert re.fullmatch(prop["pattern"].removeprefix("^").removesuffix("$"), example)
    credit = next(
        v for v in schema["properties"]["credit_code"]["anyOf"] if v.get("type") == "string"
    )
    for code in PUBLISHED_CREDIT_CODES:
        assert re.fullmatch(credit["pattern"].removeprefix("^").removesuffix("$"), code)
