"""Emergency alarms and the audited reveal of personal data, over real HTTP."""

from __future__ import annotations

import json

import httpx

from tests.conftest import Backend, key

PERSON = {"id_number": "11010519491231002X", "name": "张三", "phone": "13800138000"}


async def test_a_clerk_raises_an_alarm_and_a_supervisor_acknowledges_it(
    fresh_backend: Backend,
) -> None:
    clerk = await fresh_backend.login("clerk05", "W05")
    supervisor = await fresh_backend.login("super01")
    raised = await clerk.post(
        "/api/v1/windows/W05/alarm", json={"note": "aggressive visitor"}, headers=key()
    )
    assert raised.status_code == 201
    alarm = raised.json()
    assert (alarm["window"], alarm["raised_by"], alarm["acknowledged_at"]) == (
        "W05",
        "clerk05",
        None,
    )
    elsewhere = await clerk.post("/api/v1/windows/W06/alarm", headers=key())
    assert elsewhere.status_code == 403
    assert (
        await clerk.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=key())
    ).status_code == 403
    open_alarms = (await supervisor.get("/api/v1/alarms", params={"open": True})).json()["items"]
    assert [a["id"] for a in open_alarms] == [alarm["id"]]
    acked = await supervisor.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=key())
    assert acked.json()["acknowledged_by"] == "super01"
    again = await supervisor.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=key())
    assert again.status_code == 409
    assert (await clerk.get("/api/v1/alarms", params={"open": True})).json()["items"] == []
    for client in (clerk, supervisor):
        await client.aclose()


async def _events_text(client: httpx.AsyncClient) -> str:
    lines: list[str] = []
    async with client.stream("GET", "/api/v1/events", params={"after": 0}) as response:
        async for line in response.aiter_lines():
            lines.append(line)
            if "personal_data.revealed" in line and line.startswith("data:"):
                break
    return "\n".join(lines)


async def test_ticket_holders_are_masked_until_an_audited_reveal(fresh_backend: Backend) -> None:
    terminal = await fresh_backend.login("terminal01")
    clerk = await fresh_backend.login("clerk04", "W04")
    issued = await terminal.post(
        "/api/v1/tickets",
        json={
            "service_item": "MZ-001",
            "applicant_id_number": PERSON["id_number"],
            "applicant_name": PERSON["name"],
        },
        headers=key(),
    )
    ticket = issued.json()
    assert ticket["applicant"] == {"name": "张三", "id_number_masked": "110105********002X"}
    revealed = await clerk.post(f"/api/v1/tickets/{ticket['id']}/reveal", headers=key())
    assert revealed.json()["id_number"] == PERSON["id_number"]
    text = await _events_text(clerk)
    reveal_event = next(
        json.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data:") and "personal_data.revealed" in line
    )
    assert (reveal_event["actor"], reveal_event["subject_id"]) == ("clerk04", str(ticket["id"]))
    assert PERSON["id_number"] not in text
    for client in (terminal, clerk):
        await client.aclose()


async def test_a_case_applicant_is_revealed_only_to_staff(fresh_backend: Backend) -> None:
    portal = await fresh_backend.login("portal01")
    created = await portal.post(
        "/api/v1/cases", json={"service_item": "MZ-002", "applicant": PERSON}, headers=key()
    )
    case_id = created.json()["id"]
    refused = await portal.post(f"/api/v1/cases/{case_id}/reveal", headers=key())
    assert refused.status_code == 403
    supervisor = await fresh_backend.login("super01")
    shown = await supervisor.post(f"/api/v1/cases/{case_id}/reveal", headers=key())
    assert shown.json() == {
        "name": "张三",
        "id_number": PERSON["id_number"],
        "phone": "13800138000",
    }
    missing = await supervisor.post("/api/v1/cases/999999/reveal", headers=key())
    assert missing.status_code == 404
    for client in (portal, supervisor):
        await client.aclose()
