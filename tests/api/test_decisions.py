"""Decisions on cases over HTTP: every decision, every refusal, the one-time notice rule and
容缺 acceptance with its due dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.api.cases_support import (
    MIGRATION,
    SHANGHAI,
    SUBSISTENCE_REQUIRED,
    clerk,
    decide,
    decided,
    events_of,
    intake,
    portal,
    provide,
    row,
    verify,
)
from tests.conftest import Backend, key
from tests.problems import problem_kind

__all__ = ["clerk", "portal"]  # fixtures

VALID = {"document": {"valid_until": "2040-01-01"}}


async def ready_case(portal: httpx.AsyncClient, clerk: httpx.AsyncClient) -> dict[str, Any]:
    case = await intake(portal)
    return await provide(clerk, case, *SUBSISTENCE_REQUIRED, **VALID)


async def test_accept_starts_the_clock_and_issues_the_notice(
    backend: Backend, portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await ready_case(portal, clerk)
    response = await decide(clerk, case, "accept", note="齐全")
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["decision"]["decision"] == "accept"
    assert (result["decision"]["from_status"], result["decision"]["to_status"]) == (
        "submitted",
        "accepted",
    )
    accepted = result["case"]
    assert accepted["status"] == "accepted"
    assert accepted["assignee"] == "clerk03"
    limit = accepted["time_limit"]
    assert limit["clock"] == "running" and limit["status"] == "on_track"
    assert limit["working_days_left"] == 20
    assert accepted["notices"][0]["kind"] == "accept"
    assert accepted["decisions"][0]["notice"] == accepted["notices"][0]["id"]
    assert response.headers["ETag"] == f'"{accepted["version"]}"'
    kinds = [e["type"] for e in events_of(backend, "case", case["id"])]
    assert kinds[-1] == "case.accepted"


async def test_accept_is_refused_while_mandatory_materials_are_missing(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    await provide(clerk, case, "application", "id_card", **VALID)
    response = await decide(clerk, case, "accept")
    assert response.status_code == 409
    assert problem_kind(response) == "materials-incomplete"
    assert response.json()["materials"] == ["household_register", "income_authorisation"]


async def test_accept_is_refused_while_a_finding_is_an_error(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await ready_case(portal, clerk)
    await provide(clerk, case, "id_card", document={"valid_until": "2020-01-01"})
    response = await decide(clerk, case, "accept")
    assert response.status_code == 409
    assert [f["code"] for f in response.json()["findings"]] == ["document_expired"]


async def test_accept_with_owed_gives_due_dates_within_the_time_limit(
    backend: Backend, portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await ready_case(portal, clerk)
    assert (await verify(clerk, case, "income_proof", status="owed")).status_code == 200
    plain = await decide(clerk, case, "accept")
    assert plain.status_code == 409 and plain.json()["materials"] == ["income_proof"]
    unsigned = await decide(clerk, case, "accept_with_owed", pledge_signed=False)
    assert unsigned.status_code == 422
    too_late = await decide(
        clerk,
        case,
        "accept_with_owed",
        pledge_signed=True,
        owed_due=[{"material": "income_proof", "due_on": "2099-01-01"}],
    )
    assert too_late.status_code == 422 and "promised completion date" in too_late.json()["detail"]
    not_owed = await decide(
        clerk,
        case,
        "accept_with_owed",
        pledge_signed=True,
        owed_due=[{"material": "application", "due_on": "2099-01-01"}],
    )
    assert not_owed.status_code == 422
    result = await decided(clerk, case, "accept_with_owed", pledge_signed=True)
    accepted = result["case"]
    deadline = accepted["time_limit"]["deadline"]
    assert row(accepted, "income_proof")["owed_due_on"] == deadline
    assert accepted["owed"] == ["income_proof"]
    assert accepted["notices"][-1]["kind"] == "owed"
    assert result["decision"]["details"]["owed"] == {"income_proof": deadline}
    assert events_of(backend, "case", case["id"])[-1]["type"] == "case.accepted_with_owed"


async def test_accept_with_owed_takes_a_due_date_between_today_and_the_deadline(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await ready_case(portal, clerk)
    await verify(clerk, case, "income_proof", status="owed")
    today = datetime.now(SHANGHAI).date()
    past = [{"material": "income_proof", "due_on": (today - timedelta(days=1)).isoformat()}]
    refused = await decide(clerk, case, "accept_with_owed", pledge_signed=True, owed_due=past)
    assert refused.status_code == 422 and "between today" in refused.json()["detail"]
    soon = [{"material": "income_proof", "due_on": today.isoformat()}]
    result = await decided(clerk, case, "accept_with_owed", pledge_signed=True, owed_due=soon)
    assert row(result["case"], "income_proof")["owed_due_on"] == today.isoformat()


async def test_accept_with_owed_needs_something_owed(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await ready_case(portal, clerk)
    response = await decide(clerk, case, "accept_with_owed", pledge_signed=True)
    assert response.status_code == 409
    assert response.json()["allowed"] == ["accept"]


async def test_approve_only_from_accepted_and_when_nothing_is_owed(
    backend: Backend, portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await ready_case(portal, clerk)
    early = await decide(clerk, case, "approve")
    assert early.status_code == 409
    assert problem_kind(early) == "invalid-transition"
    assert early.json()["current"]["status"] == "submitted"
    assert "approve" not in early.json()["allowed"]
    assert "accept" in early.json()["allowed"]
    await verify(clerk, case, "income_proof", status="owed")
    await decided(clerk, case, "accept_with_owed", pledge_signed=True)
    owing = await decide(clerk, case, "approve")
    assert owing.status_code == 409 and owing.json()["materials"] == ["income_proof"]
    await provide(clerk, case, "income_proof")
    approved = (await decided(clerk, case, "approve"))["case"]
    assert approved["status"] == "approved"
    assert approved["time_limit"]["clock"] == "stopped"
    assert approved["time_limit"]["finished_on_time"] is True
    assert approved["notices"][-1]["kind"] == "approve"
    after = await decide(clerk, case, "withdraw")
    assert after.status_code == 409 and after.json()["allowed"] == []
    assert events_of(backend, "case", case["id"])[-1]["type"] == "case.approved"


async def test_reject_needs_a_listed_reason_and_text(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    unknown = await decide(clerk, case, "reject", reason_code="no_reason", reason_text="x")
    assert unknown.status_code == 422 and "not_eligible" in unknown.json()["detail"]
    no_text = await decide(clerk, case, "reject", reason_code="not_eligible")
    assert no_text.status_code == 422
    result = await decided(
        clerk,
        case,
        "reject",
        reason_code="not_eligible",
        reason_text="家庭人均收入高于当地低保标准",
    )
    assert result["decision"]["reason_code"] == "not_eligible"
    assert result["case"]["status"] == "rejected"
    assert result["case"]["notices"][-1]["kind"] == "reject"


async def test_transfer_to_a_department_or_a_window_that_serves_the_item(
    backend: Backend, portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    await provide(clerk, case, "application")
    both = await decide(
        clerk, case, "transfer", target_window="W01", target_department="MZ", note="x"
    )
    assert both.status_code == 422
    no_note = await decide(clerk, case, "transfer", target_department="MZ")
    assert no_note.status_code == 422
    wrong_window = await decide(clerk, case, "transfer", target_window="W07", note="转护照窗口")
    assert wrong_window.status_code == 422 and "does not serve" in wrong_window.json()["detail"]
    unknown = await decide(clerk, case, "transfer", target_department="NOPE", note="x")
    assert unknown.status_code == 422
    result = await decided(clerk, case, "transfer", target_department="MZ", note="转民政局审核")
    assert result["case"]["status"] == "submitted"
    assert result["case"]["assignee"] is None
    assert result["decision"]["details"] == {"target": {"department": "MZ"}}
    assert events_of(backend, "case", case["id"])[-1]["type"] == "case.transferred"


async def test_withdraw_at_the_applicants_request(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    result = await decided(clerk, case, "withdraw", note="申请人主动撤回")
    assert result["case"]["status"] == "withdrawn"
    again = await decide(clerk, case, "accept")
    assert again.status_code == 409
    assert again.json()["current"]["status"] == "withdrawn"


async def test_decisions_need_if_match_and_an_idempotency_key(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    url = f"/api/v1/cases/{case['id']}/decisions"
    body = {"decision": "withdraw"}
    assert (await clerk.post(url, json=body, headers=key())).status_code == 428
    stale = await clerk.post(url, json=body, headers={**key(), "If-Match": '"77"'})
    assert stale.status_code == 412 and stale.json()["current"]["id"] == case["id"]
    no_key = await clerk.post(url, json=body, headers={"If-Match": f'"{case["version"]}"'})
    assert no_key.status_code == 400
    headers = {**key(), "If-Match": f'"{case["version"]}"'}
    first = await clerk.post(url, json=body, headers=headers)
    replay = await clerk.post(url, json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json() == first.json()
    for bad in ({"decision": "explode"}, {}, {"decision": "reject", "reason_code": 5}):
        response = await clerk.post(url, json=bad, headers={**key(), "If-Match": '"1"'})
        assert response.status_code == 422, response.text


async def test_terminals_cannot_decide(backend: Backend, portal: httpx.AsyncClient) -> None:
    case = await intake(portal)
    terminal = await backend.login("terminal01")
    response = await terminal.post(
        f"/api/v1/cases/{case['id']}/decisions",
        json={"decision": "withdraw"},
        headers={**key(), "If-Match": '"1"'},
    )
    assert response.status_code == 403
    await terminal.aclose()


# --- supplements: the one-time notice rule (一次性告知) ---------------------------------------


async def test_a_supplement_notice_lists_every_missing_material_at_once(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    await provide(clerk, case, "application", "id_card", **VALID)
    result = await decided(
        clerk,
        case,
        "supplement",
        items=[
            {
                "material": "id_card",
                "what_is_needed": "身份证正反面复印件",
                "reason": "复印件不清晰",
            }
        ],
    )
    after = result["case"]
    assert after["status"] == "supplement_requested"
    assert result["decision"]["details"]["materials"] == [
        "household_register",
        "id_card",
        "income_authorisation",
    ]
    notice = after["notices"][-1]
    assert notice["kind"] == "supplement"
    assert row(after, "household_register")["requested_in_notice"] == notice["number"]
    text = (await clerk.get(notice["text_url"])).text
    assert "身份证正反面复印件" in text and "复印件不清晰" in text
    assert "居民户口簿" in text and "家庭经济状况核对授权书" in text


async def test_a_second_request_may_not_repeat_an_unchanged_material(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    await provide(clerk, case, "application", "id_card", **VALID)
    first = await decided(clerk, case, "supplement")
    number = first["case"]["notices"][-1]["number"]
    repeat = await decide(clerk, case, "supplement", items=[{"material": "household_register"}])
    assert repeat.status_code == 409
    assert problem_kind(repeat) == "notice-repeats-material"
    assert repeat.json()["materials"] == ["household_register"]
    assert number in repeat.json()["detail"]
    nothing_new = await decide(clerk, case, "supplement")
    assert nothing_new.status_code == 409
    # the applicant brings the household register, but it is the wrong one: that may be asked
    await verify(clerk, case, "household_register", status="missing", note="户口簿非本户")
    second = await decided(
        clerk, case, "supplement", items=[{"material": "household_register", "reason": "非本户"}]
    )
    assert second["decision"]["details"]["materials"] == ["household_register"]
    assert second["case"]["notices"][-1]["number"] != number
    # a material never requested and now defective may be added too (the ID card: an
    # application form has no expiry date since materials have kinds, issue 24)
    await provide(clerk, case, "id_card", document={"valid_until": "2000-01-01"})
    third = await decided(clerk, case, "supplement")
    assert third["decision"]["details"]["materials"] == ["id_card"]


async def test_supplement_received_returns_the_case_to_review(
    backend: Backend, portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    await provide(clerk, case, "application", "id_card", "household_register", **VALID)
    await decided(clerk, case, "supplement")
    await provide(clerk, case, "income_authorisation")
    received = await decided(clerk, case, "supplement_received")
    assert received["case"]["status"] == "under_review"
    assert received["case"]["time_limit"]["clock"] == "not_started"
    accepted = await decided(clerk, case, "accept")
    assert accepted["case"]["status"] == "accepted"
    types = [
        e["type"]
        for e in events_of(backend, "case", case["id"])
        if e["type"] != "case.material_verified"
    ]
    assert types == [
        "case.submitted",
        "case.supplement_requested",
        "case.supplement_received",
        "case.accepted",
    ]


async def test_accept_directly_from_supplement_requested(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, item=MIGRATION)
    await provide(clerk, case, "id_card", "household_register", **VALID)
    await decided(clerk, case, "supplement")
    await provide(clerk, case, "property_proof")
    accepted = await decided(clerk, case, "accept")
    assert accepted["case"]["status"] == "accepted"
    assert accepted["decision"]["from_status"] == "supplement_requested"
