"""Helpers the merge tests share (no tests here): serving a hall visitor, opening their hall case,
merging and unmerging over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.cases_support import current, upload
from tests.conftest import Backend, key

SUBSISTENCE = "MZ-002"  # served by W05; related: CL-001
VALID_ID_CARD = {"document": {"valid_until": "2040-01-01"}}


@pytest.fixture
async def kiosk(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await backend.login("terminal01")
    yield client
    await client.aclose()


@pytest.fixture
async def window_clerk(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """clerk05 at W05 (MZ-002, MZ-003, CL-001)."""
    client = await backend.login("clerk05", "W05")
    yield client
    await client.aclose()


@pytest.fixture
async def supervisor(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await backend.login("super01")
    yield client
    await client.aclose()


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def serve(
    kiosk: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    *,
    item: str = SUBSISTENCE,
    id_number: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Issue a ticket at the terminal; the clerk calls it and starts serving."""
    body: dict[str, Any] = {"service_item": item}
    if id_number:
        body.update(applicant_id_number=id_number, applicant_name=name or "测试申请人")
    ticket = await ok(await kiosk.post("/api/v1/tickets", json=body, headers=key()), 201)
    for action in ("call", "start"):
        ticket = await ok(
            await clerk.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers=key())
        )
    return ticket


async def open_hall_case(
    clerk: httpx.AsyncClient, ticket: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = await clerk.post(f"/api/v1/tickets/{ticket['id']}/case", json=body, headers=key())
    return await ok(response, 201)


def paper(*materials: str, **document: Any) -> list[dict[str, Any]]:
    return [{"material": m, **({"document": document} if document else {})} for m in materials]


def uploads(*materials: str) -> list[dict[str, Any]]:
    return [upload(m, content=f"online {m}") for m in materials]


async def merge(
    client: httpx.AsyncClient,
    case: dict[str, Any],
    other: dict[str, Any],
    *,
    survivor: str = "this",
    if_match: int | str | None = "current",
    **body: Any,
) -> httpx.Response:
    """POST /cases/{case}/merge with If-Match the survivor's current version (by default)."""
    headers = key()
    if if_match == "current":
        named = case if survivor == "this" else other
        if_match = (await current(client, named))["version"]
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"'
    return await client.post(
        f"/api/v1/cases/{case['id']}/merge",
        json={"other_case": other["id"], "survivor": survivor, **body},
        headers=headers,
    )


async def unmerge(client: httpx.AsyncClient, merge_id: int, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/merges/{merge_id}/unmerge", json=body or None, headers=key())


def without_version(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k != "version"}


def material_items(case: dict[str, Any]) -> dict[str, list[tuple[str, str | None]]]:
    """Material code → [(origin, merged_from)] of the case's items."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for item in case["materials"]:
        found.setdefault(item["material"], []).append((item["origin"], item["merged_from"]))
    return found
