"""Materials have a kind (issue 24, item 8), over HTTP: the catalogue and the checklist say it,
and the server runs only the checks that kind has: a birth certificate is never "expired", an ID
card is; a form's typed sex is not compared with the ID number."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from tests.api.cases_support import clerk, codes, intake, new_person, portal, verify

__all__ = ["clerk", "portal"]  # fixtures

BIRTH_REGISTRATION = "GA-005"
LONG_AGO = (date.today() - timedelta(days=400)).isoformat()


async def test_the_catalogue_and_the_checklist_say_each_materials_kind(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    items = (await clerk.get("/api/v1/service-items")).json()["items"]
    birth = next(i for i in items if i["code"] == BIRTH_REGISTRATION)
    kinds = {m["code"]: m["kind"] for m in birth["materials"]}
    assert kinds["birth_certificate"] == "certificate"
    assert kinds["parents_id_cards"] == "id_card"
    case = await intake(portal, item=BIRTH_REGISTRATION)
    rows = (await clerk.get(f"/api/v1/cases/{case['id']}")).json()["checklist"]
    assert {r["material"]: r["kind"] for r in rows} == kinds


async def test_a_birth_certificate_is_never_expired_an_id_card_is(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, item=BIRTH_REGISTRATION)
    provided = {"status": "provided", "provided_as": "original"}
    certificate = await verify(
        clerk, case, "birth_certificate", **provided, document={"valid_until": LONG_AGO}
    )
    assert certificate.status_code == 200, certificate.text
    assert not codes(certificate.json(), "birth_certificate") & {
        "document_expired",
        "document_expires_before_completion",
        "expiry_not_recorded",
    }
    card = await verify(
        clerk, case, "parents_id_cards", **provided, document={"valid_until": LONG_AGO}
    )
    assert "document_expired" in codes(card.json(), "parents_id_cards")


async def test_a_form_is_read_only_for_whose_it_is(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    person = new_person(sex="male")
    case = await intake(portal, id_number=person)
    form = await verify(
        clerk,
        case,
        "application",
        status="provided",
        provided_as="original",
        document={"sex": "female", "birth_date": "1950-01-01", "valid_until": LONG_AGO},
    )
    assert not codes(form.json(), "application") & {
        "sex_mismatch",
        "birth_date_mismatch",
        "document_expired",
    }
    card = await verify(
        clerk,
        case,
        "id_card",
        status="provided",
        provided_as="original",
        document={"sex": "female", "valid_until": (date.today() + timedelta(days=900)).isoformat()},
    )
    assert "sex_mismatch" in codes(card.json(), "id_card")
