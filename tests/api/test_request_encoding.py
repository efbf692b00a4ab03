"""What a request must be encoded as (issue 25, items 3 and 4): a JSON body in UTF-8 (RFC 8259;
UTF-16 and UTF-32 get 415), an Idempotency-Key in printable ASCII (anything else gets 400
`idempotency-key-invalid`); nothing is changed by a refused request."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Backend, key

PROBLEMS = "https://service-workbench.example/problems/"
TICKET = {"service_item": "MZ-002", "applicant_name": "张三"}


def _problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEMS + kind, body
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


async def _ticket_count(client: httpx.AsyncClient) -> int:
    listed = await client.get("/api/v1/tickets", params={"limit": 200})
    return len(listed.json()["items"])


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("utf-16", "application/json"),  # with a byte order mark
        ("utf-16-le", "application/json"),  # without one: NULs in the first bytes
        ("utf-16-be", "application/json"),
        ("utf-32", "application/json"),
        ("utf-8", "application/json; charset=utf-16"),  # declared otherwise
    ],
)
async def test_a_json_body_not_in_utf8_is_415(
    fresh_backend: Backend, encoding: str, content_type: str
) -> None:
    terminal = await fresh_backend.login("terminal01")
    supervisor = await fresh_backend.login("super01")
    before = await _ticket_count(supervisor)
    body = json.dumps(TICKET, ensure_ascii=False).encode(encoding)
    refused = await terminal.post(
        "/api/v1/tickets", content=body, headers={**key(), "Content-Type": content_type}
    )
    _problem(refused, 415, "unsupported-media-type")
    assert "UTF-8" in refused.json()["detail"]
    assert await _ticket_count(supervisor) == before
    for client in (terminal, supervisor):
        await client.aclose()


async def test_a_body_opening_with_a_utf16_byte_order_mark_is_415_even_if_garbage_after(
    backend: Backend,
) -> None:
    """(Before issue 25 this was a 422: `json.loads` took it for UTF-16 and failed to parse.)"""
    terminal = await backend.login("terminal01")
    refused = await terminal.post(
        "/api/v1/tickets",
        content=b"\xff\xfe{}",
        headers={**key(), "Content-Type": "application/json"},
    )
    _problem(refused, 415, "unsupported-media-type")
    await terminal.aclose()


async def test_utf8_bodies_are_served_with_or_without_a_charset_or_a_byte_order_mark(
    backend: Backend,
) -> None:
    terminal = await backend.login("terminal01")
    text = json.dumps(TICKET, ensure_ascii=False)
    for body, content_type in (
        (text.encode(), "application/json"),
        (text.encode(), "application/json; charset=UTF-8"),
        (text.encode("utf-8-sig"), "application/json"),
    ):
        issued = await terminal.post(
            "/api/v1/tickets", content=body, headers={**key(), "Content-Type": content_type}
        )
        assert issued.status_code == 201, issued.text
    await terminal.aclose()


@pytest.mark.parametrize(
    "raw_key",
    # (a DEL or another control character the HTTP server itself refuses, before the app)
    ["ключ-é".encode(), b"tab\tinside", "é".encode("latin-1")],
    ids=["utf8", "tab", "latin1"],
)
async def test_an_idempotency_key_not_in_printable_ascii_is_400(
    fresh_backend: Backend, raw_key: bytes
) -> None:
    terminal = await fresh_backend.login("terminal01")
    supervisor = await fresh_backend.login("super01")
    before = await _ticket_count(supervisor)
    headers = httpx.Headers([(b"Idempotency-Key", raw_key)])
    refused = await terminal.post("/api/v1/tickets", json=TICKET, headers=headers)
    body = _problem(refused, 400, "idempotency-key-invalid")
    assert "ASCII" in body["detail"]
    assert await _ticket_count(supervisor) == before
    accepted = await terminal.post(
        "/api/v1/tickets", json=TICKET, headers={"Idempotency-Key": f"key-{uuid.uuid4()}~!"}
    )
    assert accepted.status_code == 201, accepted.text
    for client in (terminal, supervisor):
        await client.aclose()
