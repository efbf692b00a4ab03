"""Tests the hall file format (backend/hall/hall_file.py) and the packaged demo hall."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest

from api_client.identity import parse_credit_code, parse_phone, parse_resident_id
from backend.hall.hall_file import HallFile, HallFileError, load_demo_hall, load_hall_file

# Today's date for the birth-date plausibility check: the demo data must stay valid.
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo() -> HallFile:
    return load_demo_hall()


# --- the demo hall ---------------------------------------------------------------------------


def test_demo_hall_loads(demo: HallFile) -> None:
    assert demo.hall.code == "DL-ZS"
    assert demo.hall.name == "大连市中山区政务服务中心"
    assert len(demo.service_items) >= 20
    assert len(demo.departments) >= 6
    assert len(demo.windows) >= 12
    assert len(demo.priority_classes) == 5
    assert len(demo.reject_reasons) >= 6
    assert any(window.comprehensive for window in demo.windows)


def test_demo_every_item_is_served_and_has_materials(demo: HallFile) -> None:
    served = {code for window in demo.windows for code in window.service_items}
    for item in demo.service_items:
        assert item.code in served, item.code
        assert 3 <= len(item.materials) <= 8, item.code
        assert any(m.mandatory for m in item.materials), item.code
        assert item.promised_days <= item.statutory_days
    assert any(m.may_be_owed for item in demo.service_items for m in item.materials)


def test_demo_users(demo: HallFile) -> None:
    by_name = {user.username: user for user in demo.users}
    for n in range(1, 15):
        clerk = by_name[f"clerk{n:02d}"]
        assert clerk.role == "clerk"
        assert clerk.window is not None
    assert by_name["super01"].role == "supervisor"
    assert by_name["admin01"].role == "admin"
    assert by_name["terminal01"].role == "terminal"
    assert by_name["portal01"].role == "portal"


def test_demo_persons_have_valid_consistent_ids(demo: HallFile) -> None:
    persons = [a for a in demo.applicants if a.kind == "person"]
    assert len(persons) >= 25
    for person in persons:
        info = parse_resident_id(person.id_number, today=TODAY)
        assert info.number == person.id_number
        assert person.birth_date == info.birth_date, person.name
        assert person.sex == info.sex, person.name
        assert parse_phone(person.phone).kind == "mobile"


def test_demo_organisations_have_valid_credit_codes(demo: HallFile) -> None:
    organisations = [a for a in demo.applicants if a.kind == "organisation"]
    assert len(organisations) >= 5
    for organisation in organisations:
        info = parse_credit_code(organisation.id_number)
        assert info.number == organisation.id_number
        assert info.warnings == (), organisation.name
        assert organisation.legal_representative
        assert parse_phone(organisation.phone).kind == "mobile"


def test_demo_same_name_pair(demo: HallFile) -> None:
    persons = [a for a in demo.applicants if a.kind == "person"]
    pairs = [
        (a, b)
        for a, b in itertools.combinations(persons, 2)
        if a.name == b.name and a.birth_date != b.birth_date and a.phone != b.phone
    ]
    assert pairs, "expected two different people with the same name"


def _one_transposition(a: str, b: str) -> bool:
    """Whether b is a with exactly two characters swapped."""
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def test_demo_transposition_pair(demo: HallFile) -> None:
    ids = [a.id_number for a in demo.applicants if a.kind == "person"]
    pairs = [(a, b) for a, b in itertools.combinations(ids, 2) if _one_transposition(a, b)]
    assert ("210202198809150425", "210204198809150225") in pairs


def test_demo_e_licences(demo: HallFile) -> None:
    holders = {a.id_number: a for a in demo.applicants}
    types = {licence.type for licence in demo.e_licences}
    assert {
        "resident_id_card",
        "household_register",
        "marriage_certificate",
        "business_licence",
    } <= types
    statuses = [licence.status for licence in demo.e_licences]
    assert "expired" in statuses
    assert "revoked" in statuses
    for licence in demo.e_licences:
        assert holders[licence.holder_id].name == licence.holder_name
        if licence.type == "resident_id_card":
            assert licence.number == licence.holder_id
        if licence.status == "expired":
            assert licence.valid_to is not None and licence.valid_to < TODAY
        elif licence.valid_to is not None:
            assert licence.valid_to > TODAY, licence.number
    with_licence = {licence.holder_id for licence in demo.e_licences}
    assert len(with_licence) >= 0.8 * len(demo.applicants)


# --- bad files -------------------------------------------------------------------------------

MINIMAL = """
[hall]
code = "T-1"
name = "测试大厅"
name_en = "Test hall"
address = "测试路1号"
address_en = "1 Test Road"
phone = "0411-82000000"

[[departments]]
code = "MZ"
name = "民政局"
name_en = "Civil affairs"

[[service_items]]
code = "MZ-001"
name = "结婚登记"
name_en = "Marriage registration"
department = "MZ"
ticket_prefix = "A"
promised_days = 1
statutory_days = 1
guideline = "双方到场。"
guideline_en = "Both attend."

[[service_items.materials]]
code = "id_card"
name = "身份证"
name_en = "ID card"
mandatory = true
format = "original"

[[service_items]]
code = "MZ-002"
name = "低保"
name_en = "Dibao"
department = "MZ"
ticket_prefix = "B"
promised_days = 20
statutory_days = 30
guideline = "本区户籍。"
guideline_en = "District residents."

[[windows]]
code = "W01"
number = 1
name = "1号窗口"
name_en = "Window 1"
service_items = ["MZ-001", "MZ-002"]

[[users]]
username = "clerk01"
display_name = "李"
role = "clerk"
window = "W01"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(HallFileError) as caught:
        load_hall_file(_write(tmp_path, text))
    message = str(caught.value)
    for problem in caught.value.problems:
        assert problem in message
    return caught.value.problems


def test_minimal_file_loads(tmp_path: Path) -> None:
    hall = load_hall_file(_write(tmp_path, MINIMAL))
    assert [item.code for item in hall.service_items] == ["MZ-001", "MZ-002"]
    assert hall.hall.priority_interleave == 3


def test_unknown_field(tmp_path: Path) -> None:
    text = MINIMAL.replace("mandatory = true\n", 'mandatory = true\ncolour = "red"\n')
    assert _problems(tmp_path, text) == (
        "service_items[0].materials[0].colour: extra inputs are not permitted",
    )


def test_missing_field(tmp_path: Path) -> None:
    text = MINIMAL.replace('code = "id_card"\n', "")
    assert _problems(tmp_path, text) == ("service_items[0].materials[0].code: field required",)


def test_window_serving_unknown_item(tmp_path: Path) -> None:
    text = MINIMAL.replace('["MZ-001", "MZ-002"]', '["MZ-001", "MZ-999"]')
    assert _problems(tmp_path, text) == (
        "windows[0].service_items[1]: unknown service item 'MZ-999'",
    )


def test_duplicate_ticket_prefix(tmp_path: Path) -> None:
    text = MINIMAL.replace('ticket_prefix = "B"', 'ticket_prefix = "A"')
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("service_items[1].ticket_prefix: duplicate ticket prefix 'A'")


def test_promised_exceeds_statutory(tmp_path: Path) -> None:
    text = MINIMAL.replace("promised_days = 20", "promised_days = 40")
    assert _problems(tmp_path, text) == (
        "service_items[1].promised_days: promised_days (40) exceeds statutory_days (30)",
    )


def test_several_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'department = "MZ"\nticket_prefix = "B"', 'department = "XX"\nticket_prefix = "A"'
    ).replace('window = "W01"', 'window = "W09"')
    problems = _problems(tmp_path, text)
    assert set(problems) == {
        "service_items[1].ticket_prefix: duplicate ticket prefix 'A' (first used at index 0)",
        "service_items[1].department: unknown department 'XX'",
        "users[0].window: unknown window 'W09'",
    }


def test_invalid_role_and_prefix(tmp_path: Path) -> None:
    text = MINIMAL.replace('role = "clerk"', 'role = "boss"').replace(
        'ticket_prefix = "B"', 'ticket_prefix = "b1"'
    )
    problems = _problems(tmp_path, text)
    assert len(problems) == 2
    assert problems[0].startswith("service_items[1].ticket_prefix: ")
    assert problems[1].startswith("users[0].role: input should be 'clerk'")


def test_e_licence_holder_must_be_an_applicant(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
[[applicants]]
kind = "person"
id_number = "11010519491231002X"
name = "张三"
phone = "13800000000"

[[e_licences]]
type = "resident_id_card"
type_name = "居民身份证"
type_name_en = "Resident identity card"
number = "110105194912310021"
holder_id = "110105194912310021"
holder_name = "李四"
issuer = "北京市公安局朝阳分局"
valid_from = 2010-01-01
"""
    )
    assert _problems(tmp_path, text) == (
        "e_licences[0].holder_id: holder '110105194912310021' is not among the applicants",
    )


def test_not_toml(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "[hall\n")
    assert problem.startswith("not valid TOML")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(HallFileError, match="cannot read"):
        load_hall_file(tmp_path / "nope.toml")
