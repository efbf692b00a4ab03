"""Merging and unmerging over HTTP: the result material by material with provenance, the time
limit and the ticket following the survivor, every refusal, two clerks merging the same pair at
once, and unmerge restoring both cases exactly (full case documents compared), with events."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.server.embedded import EmbeddedServer
from tests.api.cases_support import (
    SUBSISTENCE_REQUIRED,
    clerk,
    current,
    decide,
    decided,
    events_of,
    intake,
    new_person,
    portal,
    provide,
    row,
    verify,
)
from tests.api.merge_support import (
    VALID_ID_CARD,
    kiosk,
    material_items,
    merge,
    ok,
    open_hall_case,
    paper,
    serve,
    supervisor,
    unmerge,
    uploads,
    window_clerk,
    without_version,
)
from tests.api.test_authorization import two_hall_settings
from tests.conftest import Backend, key
from tests.problems import problem_kind

__all__ = ["clerk", "kiosk", "portal", "supervisor", "window_clerk"]  # fixtures


async def visitor_with_online_case(
    portal: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
    *,
    online: tuple[str, ...] = ("application", "id_card", "household_register"),
    hall: tuple[str, ...] = ("application", "id_card", "income_authorisation"),
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(online case, hall case, ticket) of one person."""
    person = new_person()
    online_case = await intake(
        portal, id_number=person, name="合并测试", phone="13900001111", uploads=uploads(*online)
    )
    ticket = await serve(kiosk, window_clerk, id_number=person, name="合并测试")
    hall_case = await open_hall_case(window_clerk, ticket, materials=paper(*hall))
    return online_case, hall_case, ticket


async def test_merge_result_material_by_material_with_provenance(
    backend: Backend,
    portal: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
) -> None:
    online, hall, ticket = await visitor_with_online_case(portal, kiosk, window_clerk)
    # the online id card was checked (verified); the hall application was sighted (verified)
    await ok(await verify(clerk, online, "id_card", status="provided", provided_as="upload"))
    await provide(window_clerk, hall, "application")
    preview = await ok(
        await window_clerk.get(
            f"/api/v1/cases/{hall['id']}/merge-preview",
            params={"other": online["id"], "survivor": "other"},
        )
    )
    assert preview["survivor"]["id"] == online["id"] and preview["absorbed"]["id"] == hall["id"]
    assert preview["applicant_mismatch"] is False and preview["differences"] == []
    assert preview["ticket"] == ticket["id"]
    defaults = {r["material"]: (r["default"], r["differs"]) for r in preview["materials"]}
    assert defaults == {
        "application": ("absorbed", True),  # verified at the window beats an unchecked upload
        "id_card": ("survivor", True),  # the verified upload beats the unchecked paper
        "household_register": ("survivor", False),
        "income_authorisation": ("absorbed", False),
    }
    # the clerk prefers the paper id card after all
    response = await merge(
        window_clerk,
        hall,
        online,
        survivor="other",
        other_version=(await current(window_clerk, hall))["version"],
        materials=[{"material": "id_card", "keep": "absorbed"}],
        note="同一申请人网上已申请",
    )
    result = await ok(response, 201)
    survivor, absorbed, record = result["survivor"], result["absorbed"], result["merge"]
    assert response.headers["ETag"] == f'"{survivor["version"]}"'
    assert response.headers["Location"] == f"/api/v1/merges/{record['id']}"
    assert material_items(survivor) == {
        "household_register": [("online_upload", None)],
        "application": [("hall_paper", hall["number"])],
        "id_card": [("hall_paper", hall["number"])],
        "income_authorisation": [("hall_paper", hall["number"])],
    }
    application = row(survivor, "application")
    assert (application["status"], application["provided_as"]) == ("provided", "original")
    assert application["updated_by"] == "clerk05"
    assert row(survivor, "id_card")["status"] == "pending"  # the paper card was not checked
    assert survivor["ticket_id"] == ticket["id"]
    assert survivor["decisions"][-1]["decision"] == "merge"
    assert [link["case"] for link in survivor["merged_from"]] == [hall["id"]]
    assert absorbed["status"] == "merged"
    assert absorbed["merged_into"]["case"] == online["id"]
    assert absorbed["merged_into"]["number"] == online["number"]
    assert (absorbed["decisions"][-1]["from_status"], absorbed["decisions"][-1]["to_status"]) == (
        "under_review",
        "merged",
    )
    assert material_items(absorbed) == material_items(hall)  # the absorbed case keeps its own
    assert record["state"] == "active" and record["can_unmerge"] is True
    assert {m["material"]: m["kept"] for m in record["materials"]} == {
        "application": "absorbed",
        "id_card": "absorbed",
        "household_register": "survivor",
        "income_authorisation": "absorbed",
    }
    assert record["ticket"] == ticket["id"] and record["note"] == "同一申请人网上已申请"
    # the absorbed case refuses every decision, naming the survivor
    refused = await decide(clerk, absorbed, "withdraw")
    assert refused.status_code == 409 and problem_kind(refused) == "case-merged"
    assert refused.json()["survivor"] == {"id": online["id"], "number": online["number"]}
    assert online["number"] in refused.json()["detail"]
    # both histories show it
    assert events_of(backend, "case", online["id"])[-1]["type"] == "case.merge_received"
    merged_event = events_of(backend, "case", hall["id"])[-1]
    assert merged_event["type"] == "case.merged"
    assert merged_event["payload"]["survivor"] == online["number"]
    for case in (online, hall):
        history = await ok(await clerk.get(f"/api/v1/cases/{case['id']}/merges"))
        assert [m["id"] for m in history["items"]] == [record["id"]]
    assert (await ok(await clerk.get(f"/api/v1/merges/{record['id']}")))["id"] == record["id"]
    # the visitor's ticket now leads to the survivor
    by_ticket = await ok(await clerk.get(f"/api/v1/tickets/{ticket['id']}/merge-candidates"))
    assert by_ticket["case"] == online["id"]


async def test_the_survivor_carries_the_earlier_promised_time_limit(
    portal: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
) -> None:
    online, hall, _ = await visitor_with_online_case(portal, kiosk, window_clerk)
    await provide(clerk, online, *SUBSISTENCE_REQUIRED, **VALID_ID_CARD)
    accepted = (await decided(clerk, online, "accept"))["case"]
    result = await ok(await merge(window_clerk, hall, online), 201)
    survivor = result["survivor"]
    assert result["merge"]["time_limit_from"] == "absorbed"
    assert survivor["status"] == "accepted"
    assert survivor["time_limit"]["deadline"] == accepted["time_limit"]["deadline"]
    assert survivor["time_limit"]["accepted_on"] == accepted["time_limit"]["accepted_on"]
    assert result["absorbed"]["time_limit"]["clock"] == "stopped"


async def test_refusals(
    portal: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
) -> None:
    online, hall, _ = await visitor_with_online_case(portal, kiosk, window_clerk)
    itself = await merge(window_clerk, hall, hall)
    assert itself.status_code == 422 and "itself" in itself.json()["detail"]
    missing = await merge(window_clerk, hall, {"id": 2**40})
    assert missing.status_code == 422
    no_version = await merge(window_clerk, hall, online, if_match=None)
    assert no_version.status_code == 428
    stale = await merge(window_clerk, hall, online, if_match=1)
    assert stale.status_code == 412 and stale.json()["current"]["id"] == hall["id"]
    stale_other = await merge(window_clerk, hall, online, other_version=99)
    assert stale_other.status_code == 412 and stale_other.json()["current"]["id"] == online["id"]
    bad_choice = await merge(
        window_clerk, hall, online, materials=[{"material": "no_such", "keep": "absorbed"}]
    )
    assert bad_choice.status_code == 422
    empty_side = await merge(
        window_clerk,
        hall,
        online,
        materials=[{"material": "household_register", "keep": "survivor"}],
    )
    assert empty_side.status_code == 422  # only the online (absorbed) case has it
    # into a closed case, and a closed case into an open one
    closed = await intake(portal, id_number=None)
    await decided(clerk, closed, "withdraw")
    for survivor in ("this", "other"):
        response = await merge(window_clerk, hall, closed, survivor=survivor)
        assert response.status_code == 409 and problem_kind(response) == "merge-refused"
        assert "withdrawn" in response.json()["detail"]
    # into a merged case
    await ok(await merge(window_clerk, hall, online), 201)
    again = await merge(window_clerk, online, hall)
    assert again.status_code == 409 and problem_kind(again) == "case-merged"
    assert again.json()["survivor"]["id"] == hall["id"]
    # nothing changed by the refusals
    assert (await current(clerk, hall))["merged_from"][0]["case"] == online["id"]


async def test_two_accepted_cases_are_not_merged(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    person = new_person()
    cases = [await intake(portal, id_number=person) for _ in range(2)]
    for case in cases:
        await provide(clerk, case, *SUBSISTENCE_REQUIRED, **VALID_ID_CARD)
        await decided(clerk, case, "accept")
    response = await merge(clerk, cases[0], cases[1])
    assert response.status_code == 409 and problem_kind(response) == "merge-refused"
    assert "acceptance" in response.json()["detail"]
    listed = await ok(await clerk.get(f"/api/v1/cases/{cases[0]['id']}/merge-candidates"))
    blocked = next(c for c in listed["items"] if c["case"]["id"] == cases[1]["id"])
    assert blocked["blocked"] is not None


async def test_different_applicants_need_confirming_and_every_difference_resolved(
    backend: Backend,
    portal: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
) -> None:
    typo, real = new_person("female"), new_person("female")
    online = await intake(portal, id_number=typo, name="李晓梅", phone="13900002222")
    ticket = await serve(kiosk, window_clerk, id_number=real, name="李小梅")
    hall = await open_hall_case(window_clerk, ticket, materials=paper("application"))
    before = {c["id"]: await current(window_clerk, c) for c in (online, hall)}
    unconfirmed = await merge(window_clerk, hall, online)
    assert unconfirmed.status_code == 409 and problem_kind(unconfirmed) == "applicant-mismatch"
    fields = [d["field"] for d in unconfirmed.json()["differences"]]
    assert fields == ["id_number", "name"]  # the online record has no phone or birth date
    unresolved = await merge(window_clerk, hall, online, confirm_applicant_mismatch=True)
    assert unresolved.status_code == 422
    locs = [e["loc"] for e in unresolved.json()["errors"]]
    assert ["body", "applicant", "id_number"] in locs and ["body", "applicant", "name"] in locs
    resolution = {name: "survivor" for name in fields} | {"name": "absorbed"}
    result = await ok(
        await merge(
            window_clerk,
            hall,
            online,
            confirm_applicant_mismatch=True,
            applicant=resolution,
        ),
        201,
    )
    assert result["survivor"]["applicant"]["name"] == "李晓梅"
    assert result["merge"]["applicant_mismatch_confirmed"] is True
    assert result["merge"]["applicant"]["name"] == "absorbed"
    # undone: the applicant record's name is back too
    undone = await ok(await unmerge(supervisor, result["merge"]["id"]))
    for case in (undone["survivor"], undone["absorbed"]):
        assert without_version(case) == without_version(before[case["id"]])
        assert case == await current(window_clerk, case)


async def test_merging_across_halls_is_refused(tmp_path: Path) -> None:
    settings = two_hall_settings(tmp_path)
    with EmbeddedServer(settings) as server:
        halls = Backend(server)
        portal_a, portal_b = await halls.login("portal01"), await halls.login("b_portal01")
        admin = await halls.login("admin01")
        try:
            person = new_person()
            case_a = await intake(portal_a, id_number=person)
            body = {"service_item": "MZ-002", "applicant": {"id_number": person, "name": "乙"}}
            case_b = await ok(await portal_b.post("/api/v1/cases", json=body, headers=key()), 201)
            response = await merge(admin, case_a, case_b)
            assert response.status_code == 409 and problem_kind(response) == "merge-refused"
            assert "another hall" in response.json()["detail"]
        finally:
            for client in (portal_a, portal_b, admin):
                await client.aclose()


@pytest.mark.parametrize("opposite", [False, True], ids=["same-survivor", "opposite-survivors"])
async def test_two_clerks_merging_the_same_pair_at_once_one_wins(
    backend: Backend,
    portal: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
    opposite: bool,
) -> None:
    online, hall, _ = await visitor_with_online_case(portal, kiosk, window_clerk)
    versions = {c["id"]: (await current(clerk, c))["version"] for c in (online, hall)}
    first_call = merge(window_clerk, hall, online, if_match=versions[hall["id"]])
    if opposite:  # the other clerk lets the online case survive
        second_call = merge(clerk, online, hall, if_match=versions[online["id"]])
    else:
        second_call = merge(clerk, hall, online, if_match=versions[hall["id"]])
    responses = await asyncio.gather(first_call, second_call)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert problem_kind(loser) == "case-merged"
    merges = await ok(await clerk.get(f"/api/v1/cases/{hall['id']}/merges"))
    assert len(merges["items"]) == 1


async def test_unmerge_restores_both_cases_exactly(
    backend: Backend,
    portal: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
) -> None:
    online, hall, ticket = await visitor_with_online_case(portal, kiosk, window_clerk)
    await ok(await verify(clerk, online, "id_card", status="provided", provided_as="upload"))
    await provide(window_clerk, hall, "application")
    await provide(clerk, online, *SUBSISTENCE_REQUIRED, **VALID_ID_CARD)
    await decided(clerk, online, "accept")
    before = {c["id"]: await current(clerk, c) for c in (online, hall)}
    result = await ok(await merge(window_clerk, online, hall), 201)  # the hall case is absorbed
    merge_id = result["merge"]["id"]
    assert result["survivor"]["ticket_id"] == ticket["id"]
    by_clerk = await unmerge(window_clerk, merge_id)
    assert by_clerk.status_code == 403
    undone = await ok(await unmerge(supervisor, merge_id, note="合并有误"))
    assert undone["merge"]["state"] == "undone" and undone["merge"]["unmerged_by"] == "super01"
    assert undone["merge"]["can_unmerge"] is False
    for case_id, was in before.items():
        now = await current(clerk, case_id)
        assert without_version(now) == without_version(was)
        assert (
            now["version"]
            > result["survivor" if case_id == online["id"] else "absorbed"]["version"]
        )
    by_ticket = await ok(await clerk.get(f"/api/v1/tickets/{ticket['id']}/merge-candidates"))
    assert by_ticket["case"] == hall["id"]
    for case in (online, hall):
        kinds = [e["type"] for e in events_of(backend, "case", case["id"])]
        assert kinds[-2:] in (
            ["case.merge_received", "case.unmerged"],
            ["case.merged", "case.unmerged"],
        )
        history = await ok(await clerk.get(f"/api/v1/cases/{case['id']}/merges"))
        assert [m["state"] for m in history["items"]] == ["undone"]
    twice = await unmerge(supervisor, merge_id)
    assert twice.status_code == 409 and problem_kind(twice) == "unmerge-refused"
    # the cases work as before: the hall case can be decided on again
    assert (await decide(window_clerk, hall, "withdraw")).status_code == 201


async def test_unmerge_is_refused_after_a_decision_or_the_period(
    backend: Backend,
    portal: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    window_clerk: httpx.AsyncClient,
) -> None:
    online, hall, _ = await visitor_with_online_case(portal, kiosk, window_clerk)
    decided_on = await ok(await merge(window_clerk, hall, online), 201)
    await decided(
        window_clerk, decided_on["survivor"], "supplement", items=[{"material": "income_proof"}]
    )
    response = await unmerge(supervisor, decided_on["merge"]["id"])
    assert response.status_code == 409 and problem_kind(response) == "unmerge-refused"
    assert "decision since the merge" in response.json()["detail"]
    record = await ok(await clerk.get(f"/api/v1/merges/{decided_on['merge']['id']}"))
    assert record["can_unmerge"] is False and "supplement" in record["unmerge_blocked"]

    online, hall, _ = await visitor_with_online_case(portal, kiosk, window_clerk)
    late = await ok(await merge(window_clerk, hall, online), 201)
    offset = backend.clock.offset
    backend.clock.offset = offset + timedelta(days=7, minutes=1)
    try:
        a_week_later = await backend.login("super01")  # the old session has expired by then
        response = await unmerge(a_week_later, late["merge"]["id"])
        await a_week_later.aclose()
    finally:
        backend.clock.offset = offset
    assert response.status_code == 409 and "unmerge period" in response.json()["detail"]
    assert (await ok(await unmerge(supervisor, late["merge"]["id"])))["merge"]["state"] == "undone"


async def test_chained_merges_are_undone_last_first(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient, supervisor: httpx.AsyncClient
) -> None:
    person = new_person()
    a, b, c = [
        await intake(portal, id_number=person, uploads=uploads(material))
        for material in ("application", "id_card", "household_register")
    ]
    before = {case["id"]: await current(clerk, case) for case in (a, b, c)}
    first = await ok(await merge(clerk, b, a), 201)  # a into b
    second = await ok(await merge(clerk, c, b), 201)  # b (holding a's application) into c
    assert material_items(second["survivor"]) == {
        "application": [("online_upload", a["number"])],
        "id_card": [("online_upload", b["number"])],
        "household_register": [("online_upload", None)],
    }
    refused = await unmerge(supervisor, first["merge"]["id"])
    assert refused.status_code == 409 and "undo that merge first" in refused.json()["detail"]
    assert f"merge {second['merge']['id']}" in refused.json()["detail"]
    await ok(await unmerge(supervisor, second["merge"]["id"]))
    await ok(await unmerge(supervisor, first["merge"]["id"]))
    for case_id, was in before.items():
        assert without_version(await current(clerk, case_id)) == without_version(was)
