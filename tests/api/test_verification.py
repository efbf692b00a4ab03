"""Verification of a case's materials over HTTP: the checklist, the clerk's records and their
refusals, and every automatic check with a case that triggers it and one that does not."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from api_client.identity import credit_code_check_char, mask_resident_id
from tests.api.cases_support import (
    SUBSISTENCE,
    SUBSISTENCE_REQUIRED,
    clerk,
    codes,
    current,
    events_of,
    intake,
    new_person,
    portal,
    provide,
    row,
    sha,
    upload,
    verify,
)
from tests.conftest import Backend, key

__all__ = ["clerk", "portal"]  # fixtures

TODAY_PLUS_YEARS = date.today() + timedelta(days=3650)


def id_card(**document: Any) -> dict[str, Any]:
    return {
        "status": "provided",
        "provided_as": "original",
        "document": {"valid_until": TODAY_PLUS_YEARS.isoformat(), **document},
    }


# --- the checklist and the clerk's records -----------------------------------------------------


async def test_the_checklist_lists_every_catalogue_material_as_pending(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, uploads=[upload("application")])
    checklist = {r["material"]: r for r in case["checklist"]}
    assert list(checklist) == [
        "application",
        "id_card",
        "household_register",
        "income_authorisation",
        "income_proof",
        "disability_proof",
    ]
    assert all(r["status"] == "pending" and r["revision"] == 0 for r in checklist.values())
    assert checklist["application"]["uploaded"] is True
    assert checklist["income_proof"]["may_be_owed"] is True
    assert checklist["id_card"]["e_licence_type"] == "resident_id_card"
    assert case["time_limit"]["clock"] == "not_started"


async def test_a_clerk_records_each_kind_of_status_with_a_note(
    backend: Backend, portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    for material, body in (
        ("application", {"status": "provided", "provided_as": "copy", "note": "复印件清晰"}),
        ("household_register", {"status": "missing", "note": "忘带"}),
        ("income_proof", {"status": "owed"}),
        ("disability_proof", {"status": "not_applicable"}),
        ("income_authorisation", {"status": "provided", "provided_as": "upload"}),
    ):
        response = await verify(clerk, case, material, **body)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    after = await current(clerk, case)
    assert row(after, "application")["provided_as"] == "copy"
    assert row(after, "application")["note"] == "复印件清晰"
    assert row(after, "application")["updated_by"] == "clerk03"
    assert row(after, "household_register")["status"] == "missing"
    assert row(after, "income_proof")["status"] == "owed"
    assert after["owed"] == ["income_proof"]
    assert row(after, "disability_proof")["status"] == "not_applicable"
    verified = [
        e for e in events_of(backend, "case", case["id"]) if e["type"] == "case.material_verified"
    ]
    assert [e["payload"]["material"] for e in verified] == [
        "application",
        "household_register",
        "income_proof",
        "disability_proof",
        "income_authorisation",
    ]


async def test_owed_only_where_the_catalogue_allows_it(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    refused = await verify(clerk, case, "id_card", status="owed")
    assert refused.status_code == 422
    assert "owed" in refused.json()["detail"]
    assert "identity card" in refused.json()["detail"] and "id_card" not in refused.json()["detail"]
    assert (await verify(clerk, case, "income_proof", status="owed")).status_code == 200


async def test_not_applicable_only_for_optional_materials(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    refused = await verify(clerk, case, "application", status="not_applicable")
    assert refused.status_code == 422
    assert "mandatory" in refused.json()["detail"]
    id_card = await verify(clerk, case, "id_card", status="not_applicable")
    detail = id_card.json()["detail"]  # the material by its name, as the clerk knows it
    assert "identity card" in detail and "id_card" not in detail and "status:" not in detail
    ok = await verify(clerk, case, "disability_proof", status="not_applicable")
    assert ok.status_code == 200


async def test_bad_verification_bodies_are_422_not_500(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    for body in (
        {"status": "provided"},
        {"status": "missing", "provided_as": "copy"},
        {"status": "provided", "provided_as": "e_licence"},
        {"status": "provided", "provided_as": "copy", "e_licence_id": 1},
        {"status": "lost"},
        {"status": "provided", "provided_as": "copy", "file_sha256": "xyz"},
        {"status": "provided", "provided_as": "copy", "document": {"valid_until": "soon"}},
    ):
        response = await verify(clerk, case, "application", **body)
        assert response.status_code == 422, (body, response.text)


async def test_if_match_is_required_and_checked(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    url = f"/api/v1/cases/{case['id']}/materials/application"
    body = {"status": "missing"}
    without = await clerk.put(url, json=body, headers=key())
    assert without.status_code == 428
    stale = await clerk.put(url, json=body, headers={**key(), "If-Match": '"99"'})
    assert stale.status_code == 412
    assert stale.json()["current"]["version"] == case["version"]
    unknown = await clerk.put(
        f"/api/v1/cases/{case['id']}/materials/nonsense",
        json=body,
        headers={**key(), "If-Match": f'"{case["version"]}"'},
    )
    assert unknown.status_code == 404
    missing_case = await clerk.put(
        "/api/v1/cases/999999/materials/application",
        json=body,
        headers={**key(), "If-Match": '"1"'},
    )
    assert missing_case.status_code == 404


async def test_the_portal_cannot_verify(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    response = await portal.put(
        f"/api/v1/cases/{case['id']}/materials/application",
        json={"status": "missing"},
        headers={**key(), "If-Match": f'"{case["version"]}"'},
    )
    assert response.status_code == 403


# --- the automatic checks ----------------------------------------------------------------------


async def test_check_resident_id_number_on_a_document(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    person = new_person()
    case = await intake(portal, id_number=person)
    wrong = person[:-1] + ("0" if person[-1] != "0" else "1")
    bad = await verify(clerk, case, "id_card", **id_card(id_number=wrong))
    finding = next(f for f in bad.json()["findings"] if f["code"] == "resident_id_invalid")
    assert finding["severity"] == "error"
    assert finding["material"] == "id_card"
    assert "check character" in finding["message_en"]
    assert "校验位" in finding["message_zh"]
    assert row(bad.json(), "id_card")["document"]["id_number_masked"] == mask_resident_id(wrong)
    good = await verify(clerk, case, "id_card", **id_card(id_number=person))
    assert "resident_id_invalid" not in codes(good.json())


def _credit_code(body17: str) -> str:
    return body17 + credit_code_check_char(body17)


async def test_check_credit_code_and_its_inner_organisation_code(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    company = "91210204MA10C7LX77"
    case = await intake(
        portal,
        item="SC-003",
        id_number=company,
        name="大连星海湾信息科技有限公司",
        kind="organisation",
    )
    licence = {"status": "provided", "provided_as": "copy"}
    wrong = company[:-1] + ("8" if company[-1] != "8" else "9")
    bad = await verify(
        clerk,
        case,
        "business_licence",
        **licence,
        document={"id_number": wrong, "valid_until": "2050-01-01"},
    )
    assert "credit_code_invalid" in codes(bad.json(), "business_licence")
    inner_wrong = _credit_code(company[:16] + ("X" if company[16] != "X" else "Y"))
    warned = await verify(
        clerk,
        case,
        "business_licence",
        **licence,
        document={"id_number": inner_wrong, "valid_until": "2050-01-01"},
    )
    assert "credit_code_inner_check" in codes(warned.json(), "business_licence")
    assert "credit_code_invalid" not in codes(warned.json())
    good = await verify(
        clerk,
        case,
        "business_licence",
        **licence,
        document={"id_number": company, "valid_until": "2050-01-01"},
    )
    assert not {"credit_code_invalid", "credit_code_inner_check", "id_number_mismatch"} & codes(
        good.json()
    )


async def test_check_birth_date_and_sex_against_the_declaration(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    person = new_person(sex="female", born=date(1990, 5, 17))
    mismatched = await intake(portal, id_number=person, birth_date="1990-05-18", sex="male")
    found = {f["code"]: f for f in mismatched["findings"] if f["material"] is None}
    assert found["birth_date_mismatch"]["severity"] == "warning"
    assert "1990-05-17" in found["birth_date_mismatch"]["message_en"]
    assert found["sex_mismatch"]["severity"] == "warning"
    other = new_person(sex="female", born=date(1991, 6, 1))
    matching = await intake(portal, id_number=other, birth_date="1991-06-01", sex="female")
    assert not {"birth_date_mismatch", "sex_mismatch"} & codes(matching)


async def test_check_birth_date_and_sex_against_the_id_card(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    person = new_person(sex="male", born=date(1982, 2, 3))
    case = await intake(portal, id_number=person)
    bad = await verify(clerk, case, "id_card", **id_card(birth_date="1982-03-02", sex="female"))
    found = {f["code"]: f for f in bad.json()["findings"] if f["material"] == "id_card"}
    assert found["birth_date_mismatch"]["severity"] == "error"
    assert found["sex_mismatch"]["severity"] == "error"
    good = await verify(clerk, case, "id_card", **id_card(birth_date="1982-02-03", sex="male"))
    assert not {"birth_date_mismatch", "sex_mismatch"} & codes(good.json())


async def test_check_a_document_carrying_someone_elses_number(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    person, stranger = new_person(), new_person()
    case = await intake(portal, id_number=person)
    bad = await verify(clerk, case, "id_card", **id_card(id_number=stranger))
    assert "id_number_mismatch" in codes(bad.json(), "id_card")
    spouse = await verify(clerk, case, "id_card", **id_card(id_number=stranger, of_applicant=False))
    assert "id_number_mismatch" not in codes(spouse.json())


async def test_check_document_expiry(portal: httpx.AsyncClient, clerk: httpx.AsyncClient) -> None:
    case = await intake(portal)
    today = date.fromisoformat((await current(clerk, case))["submitted_at"][:10])
    expired = await verify(
        clerk, case, "id_card", **id_card(valid_until=(today - timedelta(days=30)).isoformat())
    )
    assert {
        f["code"]: f["severity"] for f in expired.json()["findings"] if f["material"] == "id_card"
    }["document_expired"] == "error"
    soon = await verify(
        clerk, case, "id_card", **id_card(valid_until=(today + timedelta(days=10)).isoformat())
    )
    assert "document_expires_before_completion" in codes(soon.json(), "id_card")  # 20 working days
    assert "document_expired" not in codes(soon.json())
    fine = await verify(clerk, case, "id_card", **id_card())
    assert not {"document_expired", "document_expires_before_completion"} & codes(fine.json())


async def test_check_expiry_recorded_where_the_catalogue_asks(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    unrecorded = await verify(clerk, case, "id_card", status="provided", provided_as="original")
    finding = next(f for f in unrecorded.json()["findings"] if f["code"] == "expiry_not_recorded")
    assert (finding["severity"], finding["material"]) == ("info", "id_card")
    recorded = await verify(clerk, case, "id_card", **id_card())
    assert "expiry_not_recorded" not in codes(recorded.json())
    application = await verify(clerk, case, "application", status="provided", provided_as="copy")
    assert "expiry_not_recorded" not in codes(application.json(), "application")


async def test_check_names_that_differ_between_documents(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, name="王小明")
    bad = await verify(clerk, case, "id_card", **id_card(holder_name="王晓明"))
    finding = next(f for f in bad.json()["findings"] if f["code"] == "name_mismatch")
    assert finding["severity"] == "warning"
    assert "王晓明" in finding["message_zh"] and "王小明" in finding["message_zh"]
    same = await verify(clerk, case, "id_card", **id_card(holder_name=" 王小明 "))
    assert "name_mismatch" not in codes(same.json())
    guardian = await verify(
        clerk, case, "id_card", **id_card(holder_name="李四", of_applicant=False)
    )
    assert "name_mismatch" not in codes(guardian.json())


async def test_check_a_file_whose_hash_changed_since_intake(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, uploads=[upload("application", "original scan")])
    changed = await verify(
        clerk,
        case,
        "application",
        status="provided",
        provided_as="upload",
        file_sha256=sha("altered"),
    )
    finding = next(f for f in changed.json()["findings"] if f["code"] == "file_hash_mismatch")
    assert (finding["severity"], finding["material"]) == ("error", "application")
    same = await verify(
        clerk,
        case,
        "application",
        status="provided",
        provided_as="upload",
        file_sha256=sha("original scan"),
    )
    assert "file_hash_mismatch" not in codes(same.json())


async def test_check_required_materials_that_are_absent(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, uploads=[upload("application")])
    absent = {f["material"] for f in case["findings"] if f["code"] == "material_absent"}
    assert absent == {"id_card", "household_register", "income_authorisation"}  # not optional ones
    missing = await verify(clerk, case, "application", status="missing")
    assert "material_absent" in codes(missing.json(), "application")
    done = await provide(clerk, case, *SUBSISTENCE_REQUIRED, document={"valid_until": "2040-01-01"})
    assert "material_absent" not in codes(done)


async def test_owed_materials_are_reported(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, item=SUBSISTENCE)
    owed = await verify(clerk, case, "income_proof", status="owed")
    assert "material_absent" not in codes(owed.json(), "income_proof")
    assert owed.json()["owed"] == ["income_proof"]
