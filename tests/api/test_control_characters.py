"""Control characters in request text (issue 25, item 2): refused with a 422 naming the field on
both engines (SQLite stored a NUL that PostgreSQL refuses), tab, newline and carriage return
kept; the rule is on the wire models, so the document and the client carry it too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from api_client.client import Mutation
from api_client.models.catalogue import PauseRequest
from api_client.models.ratings import FollowUpResponseBody
from api_client.models.tickets import TicketActionRequest, TicketIssue
from backend.server.contract import openapi_document
from tests.conftest import Backend, key

REFUSED = ["br\u0000eak", "bell\u0007!", "esc\u001b[31m", "del\u007f!", "c1\u0085!", "vt\u000b!"]


def _refusal(response: httpx.Response, field: list[Any]) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    refused = [error for error in body["errors"] if error["type"] == "control_character"]
    assert [error["loc"] for error in refused] == [field], body
    assert "control character U+" in refused[0]["msg"], body
    return body


@pytest.mark.parametrize("reason", REFUSED)
async def test_a_pause_reason_with_a_control_character_is_422_naming_the_field(
    backend: Backend, reason: str
) -> None:
    clerk = await backend.login("clerk08", "W08")
    refused = await clerk.post("/api/v1/windows/W08/pause", json={"reason": reason}, headers=key())
    _refusal(refused, ["body", "reason"])
    window = next(
        w for w in (await clerk.get("/api/v1/windows")).json()["items"] if w["code"] == "W08"
    )
    assert window["state"] == "open", "nothing was stored"
    await clerk.aclose()


async def test_tab_newline_and_carriage_return_are_text(backend: Backend) -> None:
    clerk = await backend.login("clerk08", "W08")
    reason = "lunch\tbreak\r\nback at 13:00\nsee board"
    paused = await clerk.post("/api/v1/windows/W08/pause", json={"reason": reason}, headers=key())
    assert paused.status_code == 200, paused.text
    assert paused.json()["pause_reason"] == reason
    resumed = await clerk.post("/api/v1/windows/W08/resume", headers=key())
    assert resumed.status_code == 200, resumed.text
    await clerk.aclose()


async def test_nested_and_optional_text_is_checked_too(backend: Backend) -> None:
    terminal = await backend.login("terminal01")
    refused = await terminal.post(
        "/api/v1/tickets",
        json={"service_item": "MZ-002", "applicant_name": "张\u0000三"},
        headers=key(),
    )
    _refusal(refused, ["body", "applicant_name"])
    portal = await backend.login("portal01")
    intake = {
        "service_item": "MZ-002",
        "applicant": {"id_number": "11010519491231002X", "name": "张三"},
        "materials": [
            {"material": "M1", "file_name": "scan\u0000.pdf", "size": 1, "sha256": "0" * 64}
        ],
    }
    refused = await portal.post("/api/v1/cases", json=intake, headers=key())
    _refusal(refused, ["body", "materials", 0, "file_name"])
    for client in (terminal, portal):
        await client.aclose()


def _string_properties(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string-typed property of a request body schema (through $refs, arrays, unions)."""
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            yield where, schema
        for name, sub in (schema.get("properties") or {}).items():
            yield from _string_properties(sub, f"{where}.{name}")
        for key_ in ("items", "anyOf", "oneOf", "allOf"):
            subs = schema.get(key_)
            for sub in subs if isinstance(subs, list) else [subs] if subs else []:
                yield from _string_properties(sub, where)


def _resolve(document: dict[str, Any], schema: Any, seen: frozenset[str] = frozenset()) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref is not None:
            if ref in seen:
                return {}
            target = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
            return _resolve(document, target, seen | {ref})
        return {k: _resolve(document, v, seen) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(document, item, seen) for item in schema]
    return schema


def test_every_text_field_of_every_request_body_refuses_control_characters() -> None:
    """The rule on every string a request body takes, as the OpenAPI document says: the
    control-character pattern, or a stricter one of its own (codes, digests, ID numbers,
    enumerations, dates); passwords alone take anything, and a raw binary body (a document's
    bytes, `format: binary`) is no text at all."""
    document = openapi_document()
    unchecked = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            for media in content.values():
                schema = _resolve(document, media["schema"])
                for where, prop in _string_properties(schema, f"{method} {path}"):
                    if "pattern" in prop or "enum" in prop or "const" in prop:
                        continue
                    if prop.get("format") in ("date", "date-time", "password", "binary"):
                        continue
                    unchecked.append(where)
    assert not unchecked, unchecked


def test_the_client_refuses_control_characters_before_sending() -> None:
    with pytest.raises(ValidationError, match="control character U\\+0000"):
        Mutation.pause_window("W01", "br\u0000eak")
    with pytest.raises(ValidationError, match="control character U\\+0007"):
        TicketActionRequest(note="bell\u0007")
    with pytest.raises(ValidationError):
        TicketIssue(service_item="MZ-002", applicant_name="x\u009bz")
    with pytest.raises(ValidationError):
        FollowUpResponseBody(text="\u0000")
    assert PauseRequest(reason="a\tb\nc").reason == "a\tb\nc"
