"""The call display's API over real HTTP: the snapshot shows calls, recalls and waiting counts;
the display stream carries numbers and codes only; who may read them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from tests.api.cases_support import intake, new_person
from tests.conftest import Backend, key

ITEM = "GA-001"  # served at W01 (clerk01)
NAME = "王小明"
PHONE = "13912345678"


async def issue(terminal: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await terminal.post(
        "/api/v1/tickets", json={"service_item": ITEM, **extra}, headers=key()
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def act(clerk: httpx.AsyncClient, ticket: int, action: str, **body: Any) -> dict[str, Any]:
    response = await clerk.post(
        f"/api/v1/tickets/{ticket}/{action}", json=body or None, headers=key()
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def board(client: httpx.AsyncClient, **params: Any) -> httpx.Response:
    response = await client.get("/api/v1/display", params=params)
    return response


async def test_the_display_shows_calls_recalls_and_waiting_counts_and_no_person(
    fresh_backend: Backend, terminal: httpx.AsyncClient
) -> None:
    id_number = new_person()
    portal = await fresh_backend.login("portal01")
    clerk = await fresh_backend.login("clerk01", "W01")
    try:
        await intake(portal, id_number=id_number, name=NAME, phone=PHONE)
        first = await issue(terminal, applicant_id_number=id_number, applicant_name=NAME)
        second = await issue(terminal)

        before = (await board(terminal)).json()
        waiting = {q["service_item"]: q["waiting"] for q in before["queues"]}
        assert waiting[ITEM] == 2
        assert before["calls"] == []
        assert any(w["code"] == "W01" and w["number"] == 1 for w in before["windows"])

        called = await act(clerk, first["id"], "call")
        after = (await board(terminal)).json()
        assert after["calls"][0]["ticket"] == first["number"]
        assert after["calls"][0]["window"] == "W01"
        assert after["calls"][0]["window_number"] == 1
        assert after["calls"][0]["recall"] is False
        assert {q["service_item"]: q["waiting"] for q in after["queues"]}[ITEM] == 1
        assert after["seq"] > before["seq"]

        fresh_backend.clock.advance(timedelta(seconds=31))  # a recall waits 30 s
        await act(clerk, called["id"], "recall")
        recalled = (await board(terminal)).json()
        assert recalled["calls"][0]["ticket"] == first["number"]
        assert recalled["calls"][0]["recall"] is True
        assert recalled["calls"][0]["recall_count"] == 1

        # the applicant is known to the hall (ticket and case), yet nothing of them is shown
        text = json.dumps(recalled, ensure_ascii=False)
        for secret in (id_number, NAME, PHONE, "id_number", "applicant"):
            assert secret not in text
        assert second["number"] not in {c["ticket"] for c in recalled["calls"]}
    finally:
        await portal.aclose()
        await clerk.aclose()


async def read_stream(
    client: httpx.AsyncClient, path: str, after: int, done: Callable[[list[Any]], bool]
) -> list[Any]:
    """The stream's events after `after`, read until `done(events)` says enough."""
    seen: list[dict[str, Any]] = []
    async with client.stream("GET", path, params={"after": after}) as response:
        assert response.status_code == 200, await response.aread()

        async def read() -> None:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line.removeprefix("data:").strip()))
                    if done(seen):
                        return

        await asyncio.wait_for(read(), timeout=20)
    return seen


async def test_the_display_stream_passes_on_numbers_and_codes_only(
    fresh_backend: Backend, terminal: httpx.AsyncClient
) -> None:
    supervisor = await fresh_backend.login("super01")
    clerk = await fresh_backend.login("clerk01", "W01")
    try:
        start = (await board(terminal)).json()["seq"]
        ticket = await issue(terminal, applicant_id_number=new_person(), applicant_name=NAME)
        await act(clerk, ticket["id"], "call")
        await act(clerk, ticket["id"], "park", note=f"{NAME} went to fetch the household book")

        shown = await read_stream(
            terminal, "/api/v1/display/events", start, lambda seen: len(seen) >= 3
        )
        assert [e["type"] for e in shown] == ["ticket.issued", "ticket.called", "ticket.park"]
        for event in shown:
            assert event["payload"] == {
                "number": ticket["number"],
                "window": None if event["type"] == "ticket.issued" else "W01",
                "service_item": ITEM,
            }
            assert event["actor"] is None
        assert NAME not in json.dumps(shown, ensure_ascii=False)

        # the staff stream has the clerk's note: that is why the display has its own
        staff = await read_stream(
            supervisor, "/api/v1/events", start, lambda seen: seen[-1]["type"] == "ticket.park"
        )
        assert NAME in json.dumps(staff[-1], ensure_ascii=False)
    finally:
        await supervisor.aclose()
        await clerk.aclose()


async def test_who_may_read_the_display(fresh_backend: Backend) -> None:
    clients = {
        name: await fresh_backend.login(name, window)
        for name, window in (
            ("clerk01", "W01"),
            ("portal01", None),
            ("super01", None),
            ("admin01", None),
        )
    }
    try:
        assert (await board(clients["clerk01"])).status_code == 403
        assert (await board(clients["portal01"])).status_code == 403
        assert (await board(clients["super01"])).status_code == 200
        assert (await board(clients["admin01"], hall="DL-ZS")).json()["hall"] == "DL-ZS"
        unknown = await board(clients["admin01"], hall="NO-SUCH")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        too_many = await board(clients["super01"], limit=500)
        assert too_many.status_code == 422
        assert too_many.headers["content-type"].startswith("application/problem+json")
    finally:
        for client in clients.values():
            await client.aclose()
