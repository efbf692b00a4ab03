"""Merge candidates over HTTP: the ranking (exact, related item, near matches), reasons and
scores, no false match between different people who share a name, candidates for the visitor at
the window, and opening a hall case for that visitor."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.cases_support import clerk, decided, intake, new_person, portal
from tests.api.merge_support import (
    SUBSISTENCE,
    kiosk,
    ok,
    open_hall_case,
    paper,
    serve,
    uploads,
    window_clerk,
)
from tests.conftest import Backend, key
from tests.problems import problem_kind

__all__ = ["clerk", "kiosk", "portal", "window_clerk"]  # fixtures

LIU = "210202198809150425"  # 刘丽娟, the real record
LIU_SWAPPED = "210204198809150225"  # characters 6 and 16 swapped; same name, birth, phone
LIU_PHONE = "15941136082"
WANG_1 = "210202197806210176"  # 王伟 (1)
WANG_2 = "210211199111020531"  # 王伟 (2): a different person
ORGANISATION = "91210204MA10C7LX77"  # 大连星海湾信息科技有限公司


async def candidates(client: httpx.AsyncClient, case: dict[str, Any]) -> list[dict[str, Any]]:
    body = await ok(await client.get(f"/api/v1/cases/{case['id']}/merge-candidates"))
    assert body["case"] == case["id"]
    return list(body["items"])


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [c["case"]["id"] for c in items]


async def test_candidates_are_ranked_exact_then_related_then_near(fresh_backend: Backend) -> None:
    portal = await fresh_backend.login("portal01")
    clerk = await fresh_backend.login("clerk05", "W05")
    kiosk = await fresh_backend.login("terminal01")
    try:
        exact = await intake(portal, id_number=LIU, name="刘丽娟", uploads=uploads("application"))
        related = await intake(portal, item="CL-001", id_number=LIU, name="刘丽娟")
        near = await intake(portal, id_number=LIU_SWAPPED, name="刘丽娟")
        unrelated = await intake(portal, item="GA-001", id_number=LIU, name="刘丽娟")
        withdrawn = await intake(portal, id_number=LIU, name="刘丽娟")
        await decided(clerk, withdrawn, "withdraw")
        namesake = await intake(portal, id_number=new_person("female"), name="刘丽娟")
        same_phone = await intake(
            portal, id_number=new_person("female"), name="张桂兰", phone=LIU_PHONE
        )
        ticket = await serve(kiosk, clerk, id_number=LIU, name="刘丽娟")
        # before the clerk opens a case: the visitor's candidates, by the ticket
        visitor = await ok(await clerk.get(f"/api/v1/tickets/{ticket['id']}/merge-candidates"))
        assert visitor["ticket"] == ticket["id"] and visitor["case"] is None
        assert ids(visitor["items"]) == [exact["id"], related["id"], near["id"]]

        hall = await open_hall_case(clerk, ticket, materials=paper("application", "id_card"))
        found = await candidates(clerk, hall)
        assert ids(found) == [exact["id"], related["id"], near["id"]]
        first, second, third = found
        assert (first["match"], first["score"]) == ("exact", 100)
        assert first["reasons"] == ["same_id_number", "same_service_item"]
        assert (second["match"], second["score"]) == ("related_item", 85)
        assert second["reasons"] == ["same_id_number", "related_service_item"]
        assert third["match"] == "near" and third["score"] == 80
        assert third["reasons"] == [
            "id_number_one_swap",
            "same_name",
            "same_phone",
            "same_birth_date",
            "same_service_item",
        ]
        assert third["case"]["applicant"]["id_number_masked"] == "210204********0225"
        assert all(c["blocked"] is None for c in found)
        for absent in (unrelated, withdrawn, namesake, same_phone):
            assert absent["id"] not in ids(found)
        # the ticket now answers with its case's candidates
        visitor = await ok(await clerk.get(f"/api/v1/tickets/{ticket['id']}/merge-candidates"))
        assert visitor["case"] == hall["id"] and ids(visitor["items"]) == ids(found)
        # and the relation is symmetric: the near match proposes the hall case too
        assert hall["id"] in ids(await candidates(clerk, near))
    finally:
        for client in (portal, clerk, kiosk):
            await client.aclose()


async def test_two_people_who_share_a_name_are_never_candidates(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    first = await intake(portal, id_number=WANG_1, name="王伟")
    second = await intake(portal, id_number=WANG_2, name="王伟")
    assert second["id"] not in ids(await candidates(clerk, first))
    assert first["id"] not in ids(await candidates(clerk, second))


async def test_the_same_credit_code_is_a_near_match(
    backend: Backend, portal: httpx.AsyncClient, kiosk: httpx.AsyncClient
) -> None:
    """The company applied online; its legal representative came to the hall in person and
    handed over the business licence: the code on it matches the company's case."""
    online = await intake(
        portal,
        item="SC-003",
        id_number=ORGANISATION,
        name="大连星海湾信息科技有限公司",
        kind="organisation",
    )
    clerk08 = await backend.login("clerk08", "W08")
    try:
        ticket = await serve(kiosk, clerk08, item="SC-003", id_number=new_person(), name="林晓峰")
        licence = paper("business_licence", id_number=ORGANISATION, id_kind="credit_code")
        hall = await open_hall_case(clerk08, ticket, materials=licence)
        found = await candidates(clerk08, hall)
        match = next(c for c in found if c["case"]["id"] == online["id"])
        assert match["match"] == "near"
        assert match["reasons"] == ["same_credit_code", "same_service_item"]
        assert hall["id"] in ids(await candidates(clerk08, online))
    finally:
        await clerk08.aclose()


async def test_a_clerk_opens_a_hall_case_for_the_visitor_being_served(
    backend: Backend, kiosk: httpx.AsyncClient, window_clerk: httpx.AsyncClient
) -> None:
    person = new_person()
    ticket = await serve(kiosk, window_clerk, id_number=person, name="窗口访客")
    case = await open_hall_case(
        window_clerk,
        ticket,
        materials=paper("application", "id_card", valid_until="2040-01-01"),
    )
    assert case["channel"] == "hall" and case["status"] == "under_review"
    assert case["assignee"] == "clerk05" and case["ticket_id"] == ticket["id"]
    assert case["applicant"]["name"] == "窗口访客"
    assert [(m["material"], m["origin"]) for m in case["materials"]] == [
        ("application", "hall_paper"),
        ("id_card", "hall_paper"),
    ]
    assert case["materials"][1]["document"]["valid_until"] == "2040-01-01"
    assert case["merged_into"] is None and case["merged_from"] == []
    again = await window_clerk.post(f"/api/v1/tickets/{ticket['id']}/case", json={}, headers=key())
    assert again.status_code == 409 and case["number"] in again.json()["detail"]


async def test_opening_a_hall_case_is_refused_clearly(
    backend: Backend, kiosk: httpx.AsyncClient, window_clerk: httpx.AsyncClient
) -> None:
    waiting = await ok(
        await kiosk.post("/api/v1/tickets", json={"service_item": SUBSISTENCE}, headers=key()),
        201,
    )
    response = await window_clerk.post(
        f"/api/v1/tickets/{waiting['id']}/case", json={}, headers=key()
    )
    assert response.status_code == 409 and problem_kind(response) == "invalid-transition"
    served = await serve(kiosk, window_clerk)  # no applicant on the ticket
    no_one = await window_clerk.post(f"/api/v1/tickets/{served['id']}/case", json={}, headers=key())
    assert no_one.status_code == 422 and "applicant" in no_one.json()["detail"]
    other = await backend.login("clerk01", "W01")
    try:
        body = {"applicant": {"id_number": new_person(), "name": "某人"}}
        elsewhere = await other.post(
            f"/api/v1/tickets/{served['id']}/case", json=body, headers=key()
        )
        assert elsewhere.status_code == 403
    finally:
        await other.aclose()
    unknown = await window_clerk.post(
        f"/api/v1/tickets/{served['id']}/case",
        json={
            "applicant": {"id_number": new_person(), "name": "某人"},
            "materials": [{"material": "no_such_thing"}],
        },
        headers=key(),
    )
    assert unknown.status_code == 422
