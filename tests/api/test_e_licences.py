"""E-licences (电子证照) over HTTP: look-up by holder, attaching one in place of paper, and the
refusals for expired, revoked, wrong-type and someone else's licences."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.cases_support import clerk, codes, intake, portal, row, verify
from tests.problems import problem_kind

__all__ = ["clerk", "portal"]  # fixtures

ZHANG = "210202197503140318"  # 张志强: valid ID card, household register, ...
MA = "21028120000808059X"  # 马俊: ID card expired on 2026-08-20
OLD_STREET = "91210203MA0QF1TU56"  # 大连老街坊餐饮有限公司: business licence revoked


async def licences(clerk: httpx.AsyncClient, holder: str, **params: Any) -> list[dict[str, Any]]:
    response = await clerk.get("/api/v1/e-licences", params={"holder": holder, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def licence_of(clerk: httpx.AsyncClient, holder: str, kind: str) -> dict[str, Any]:
    return (await licences(clerk, holder, type=kind))[0]


async def test_look_up_the_licences_of_a_holder(clerk: httpx.AsyncClient) -> None:
    found = await licences(clerk, ZHANG)
    types = {item["type"] for item in found}
    assert {"resident_id_card", "household_register", "real_estate_certificate"} <= types
    card = next(item for item in found if item["type"] == "resident_id_card")
    assert card["usable"] is True and card["state"] == "valid"
    assert card["holder_id_masked"] == "210202********0318"
    assert card["number_masked"] == "210202********0318"
    assert await licences(clerk, "110101190001011234") == []
    expired = await licence_of(clerk, MA, "resident_id_card")
    assert (expired["state"], expired["usable"]) == ("expired", False)
    assert expired["refusal_zh"] and expired["refusal_en"] == "The e-licence has expired."
    assert (await clerk.get("/api/v1/e-licences")).status_code == 422


async def test_spouses_each_have_their_marriage_certificate_under_one_number(
    clerk: httpx.AsyncClient,
) -> None:
    """陈浩 and 李娜's certificates share the number J210211-2021-001520; loading the second
    used to replace the first."""
    husband = await licence_of(clerk, "210213199212080376", "marriage_certificate")
    wife = await licence_of(clerk, "210211199405200685", "marriage_certificate")
    assert husband["id"] != wife["id"]
    assert (husband["holder_name"], wife["holder_name"]) == ("陈浩", "李娜")


async def test_attach_a_valid_licence_in_place_of_paper(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, id_number=ZHANG, name="张志强")
    card = await licence_of(clerk, ZHANG, "resident_id_card")
    response = await verify(
        clerk, case, "id_card", status="provided", provided_as="e_licence", e_licence_id=card["id"]
    )
    assert response.status_code == 200, response.text
    attached = row(response.json(), "id_card")
    assert attached["provided_as"] == "e_licence"
    assert attached["e_licence"]["id"] == card["id"]
    assert attached["e_licence"]["issuer"] == card["issuer"]
    assert not {"expiry_not_recorded", "name_mismatch", "material_absent"} & codes(
        response.json(), "id_card"
    )


async def test_an_expired_licence_is_refused_with_a_reason(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, item="RS-001", id_number=MA, name="马俊")
    card = await licence_of(clerk, MA, "resident_id_card")
    response = await verify(
        clerk, case, "id_card", status="provided", provided_as="e_licence", e_licence_id=card["id"]
    )
    assert response.status_code == 409
    assert problem_kind(response) == "e-licence-unusable"
    assert response.json()["reason"] == "expired"
    assert response.json()["valid_to"] == "2026-08-20"
    assert row(await _case(clerk, case), "id_card")["status"] == "pending"


async def test_a_revoked_licence_is_refused_with_a_reason(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(
        portal,
        item="SC-003",
        id_number=OLD_STREET,
        name="大连老街坊餐饮有限公司",
        kind="organisation",
    )
    licence = await licence_of(clerk, OLD_STREET, "business_licence")
    response = await verify(
        clerk,
        case,
        "business_licence",
        status="provided",
        provided_as="e_licence",
        e_licence_id=licence["id"],
    )
    assert response.status_code == 409
    assert response.json()["reason"] == "revoked"
    assert "吊销" in response.json()["reason_zh"]


async def test_wrong_type_or_holder_or_unknown_licences_are_refused(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, id_number=ZHANG, name="张志强")
    register = await licence_of(clerk, ZHANG, "household_register")
    wrong_type = await verify(
        clerk,
        case,
        "id_card",
        status="provided",
        provided_as="e_licence",
        e_licence_id=register["id"],
    )
    assert wrong_type.status_code == 422
    other = await licence_of(clerk, "210202197806210176", "resident_id_card")
    not_theirs = await verify(
        clerk, case, "id_card", status="provided", provided_as="e_licence", e_licence_id=other["id"]
    )
    assert not_theirs.status_code == 409 and not_theirs.json()["reason"] == "wrong_holder"
    unknown = await verify(
        clerk, case, "id_card", status="provided", provided_as="e_licence", e_licence_id=999999
    )
    assert unknown.status_code == 404
    no_e_licence = await verify(
        clerk,
        case,
        "application",
        status="provided",
        provided_as="e_licence",
        e_licence_id=register["id"],
    )
    assert no_e_licence.status_code == 422


async def _case(clerk: httpx.AsyncClient, case: dict[str, Any]) -> dict[str, Any]:
    return dict((await clerk.get(f"/api/v1/cases/{case['id']}")).json())
