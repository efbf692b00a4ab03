"""Helpers the case tests share (no tests here): intake by the portal, verification, decisions."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from api_client.identity import make_resident_id
from tests.conftest import Backend, key

SUBSISTENCE = "MZ-002"  # 20 days; id_card (e-licence, expiry), income_proof may be owed
MIGRATION = "GA-002"  # 3 days; consent may be owed
SHANGHAI = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def new_person(sex: str = "male", born: date | None = None) -> str:
    """A valid resident ID number no other test uses."""
    n = next(_serial)
    birth = born or date(1960, 1, 1) + timedelta(days=97 * n)
    sequence = 2 * (300 + n % 200) + (1 if sex == "male" else 0)
    return make_resident_id("210203", birth, sequence)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def intake(
    portal: httpx.AsyncClient,
    *,
    item: str = SUBSISTENCE,
    id_number: str | None = None,
    name: str = "测试申请人",
    uploads: list[dict[str, Any]] | None = None,
    **applicant: Any,
) -> dict[str, Any]:
    body = {
        "service_item": item,
        "applicant": {"id_number": id_number or new_person(), "name": name, **applicant},
        "materials": uploads or [],
    }
    response = await portal.post("/api/v1/cases", json=body, headers=key())
    assert response.status_code == 201, response.text
    return dict(response.json())


def upload(material: str, content: str = "scan", **extra: Any) -> dict[str, Any]:
    return {
        "material": material,
        "file_name": f"{material}.pdf",
        "size": len(content),
        "sha256": sha(content),
        **extra,
    }


async def current(client: httpx.AsyncClient, case: dict[str, Any] | int) -> dict[str, Any]:
    case_id = case if isinstance(case, int) else case["id"]
    response = await client.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def verify(
    client: httpx.AsyncClient, case: dict[str, Any], material: str, **body: Any
) -> httpx.Response:
    fresh = await current(client, case)
    return await client.put(
        f"/api/v1/cases/{case['id']}/materials/{material}",
        json=body,
        headers={**key(), "If-Match": f'"{fresh["version"]}"'},
    )


async def provide(
    client: httpx.AsyncClient, case: dict[str, Any], *materials: str, **body: Any
) -> dict[str, Any]:
    """Record each material as a sighted original; return the case afterwards."""
    result: dict[str, Any] = case
    for material in materials:
        response = await verify(
            client, case, material, status="provided", provided_as="original", **body
        )
        assert response.status_code == 200, response.text
        result = response.json()
    return result


async def decide(
    client: httpx.AsyncClient, case: dict[str, Any], decision: str, **body: Any
) -> httpx.Response:
    fresh = await current(client, case)
    return await client.post(
        f"/api/v1/cases/{case['id']}/decisions",
        json={"decision": decision, **body},
        headers={**key(), "If-Match": f'"{fresh["version"]}"'},
    )


async def decided(
    client: httpx.AsyncClient, case: dict[str, Any], decision: str, **body: Any
) -> dict[str, Any]:
    response = await decide(client, case, decision, **body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def row(case: dict[str, Any], material: str) -> dict[str, Any]:
    return next(r for r in case["checklist"] if r["material"] == material)


def codes(case: dict[str, Any], material: str | None = None) -> set[str]:
    return {f["code"] for f in case["findings"] if material is None or f["material"] == material}


def set_today(backend: Backend, day: date, hour: int = 10) -> None:
    """Move the server's clock to `hour` o'clock of `day` in the hall (Asia/Shanghai)."""
    target = datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)
    backend.clock.offset = target.astimezone(UTC) - datetime.now(UTC)


@pytest.fixture
async def portal(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await backend.login("portal01")
    yield client
    await client.aclose()


@pytest.fixture
async def clerk(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await backend.login("clerk03", "W03")
    yield client
    await client.aclose()


SUBSISTENCE_REQUIRED = ("application", "id_card", "household_register", "income_authorisation")


def events_of(backend: Backend, subject_type: str, subject_id: int) -> list[dict[str, Any]]:
    """The audit-log rows of one subject, read straight from the backend's database."""
    from sqlalchemy import create_engine, select

    from backend.db.schema import events

    engine = create_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(events.c.type, events.c.payload)
                .where(events.c.subject_type == subject_type)
                .where(events.c.subject_id == str(subject_id))
                .order_by(events.c.seq)
            ).all()
    finally:
        engine.dispose()
    import json

    return [{"type": r.type, "payload": json.loads(r.payload)} for r in rows]
