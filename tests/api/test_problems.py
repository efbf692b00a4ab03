"""Error conventions over real HTTP: every refusal is RFC 9457 `application/problem+json` with a
stable type, and bad input never gets a 5xx (a seeded fuzz loop over every operation)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import string
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from backend.server.contract import openapi_document
from backend.server.embedded import EmbeddedServer
from tests.conftest import Backend, key, seeded_settings
from tests.problems import problem

LIMIT = 4096  # max_body_bytes of this module's backend
ITEM = "MZ-002"
VALID_ID = "11010519491231002X"  # the published GB 11643 example
ROLES = {
    "clerk": ("clerk01", "W01"),
    "supervisor": ("super01", None),
    "admin": ("admin01", None),
    "terminal": ("terminal01", None),
    "portal": ("portal01", None),
}


def field_locs(body: dict[str, Any]) -> list[list[Any]]:
    return [error["loc"] for error in body.get("errors") or []]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    settings = seeded_settings(tmp_path_factory.mktemp("problems"), max_body_bytes=LIMIT)
    with EmbeddedServer(settings) as embedded:
        yield Backend(embedded)


@pytest.fixture(scope="module")
async def clients(server: Backend) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    logged_in = {
        role: await server.login(name, window, verify=False)
        for role, (name, window) in ROLES.items()
    }
    yield logged_in
    for client in logged_in.values():
        await client.aclose()


@pytest.fixture(scope="module")
async def ticket_id(clients: dict[str, httpx.AsyncClient]) -> int:
    response = await clients["terminal"].post(
        "/api/v1/tickets", json={"service_item": ITEM}, headers=key()
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture(scope="module")
async def case_id(clients: dict[str, httpx.AsyncClient]) -> int:
    response = await clients["portal"].post(
        "/api/v1/cases",
        json={
            "service_item": ITEM,
            "applicant": {"kind": "person", "id_number": VALID_ID, "name": "测试"},
        },
        headers=key(),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def post_raw(
    client: httpx.AsyncClient, path: str, content: Any, content_type: str = "application/json"
) -> httpx.Response:
    return await client.post(path, content=content, headers={**key(), "Content-Type": content_type})


# --- bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    # (a body opening with a UTF-16 byte order mark is 415: tests/api/test_request_encoding.py)
    [b'{"service_item": ', b"{bad json}", b'{"service_item": "MZ-002",}', b""],
    ids=["truncated", "garbage", "trailing-comma", "empty"],
)
async def test_malformed_json_is_422_with_field_errors(
    clients: dict[str, httpx.AsyncClient], raw: bytes
) -> None:
    body = problem(await post_raw(clients["terminal"], "/api/v1/tickets", raw), 422, "validation")
    assert body["errors"], body
    assert all(loc and loc[0] == "body" for loc in field_locs(body)), body


async def test_wrong_types_are_422_naming_each_field(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    response = await clients["terminal"].post(
        "/api/v1/tickets",
        json={"service_item": 5, "priority_class": ["x"], "appointment_at": "tomorrow"},
        headers=key(),
    )
    body = problem(response, 422, "validation")
    assert sorted(loc[-1] for loc in field_locs(body)) == [
        "appointment_at",
        "priority_class",
        "service_item",
    ]
    assert "service_item" in body["detail"]


@pytest.mark.parametrize(
    ("role", "path", "payload"),
    [
        ("terminal", "/api/v1/tickets", {"service_item": ITEM, "colour": "red"}),
        ("clerk", "/api/v1/windows/W01/walk-in", {"service_item": ITEM, "vip": True}),
        ("supervisor", "/api/v1/windows/W02/pause", {"reason": "lunch", "until": "13:00"}),
        (
            "portal",
            "/api/v1/cases",
            {
                "service_item": ITEM,
                "applicant": {"id_number": VALID_ID, "name": "x", "age": 3},
            },
        ),
    ],
)
async def test_unknown_fields_are_refused(
    clients: dict[str, httpx.AsyncClient], role: str, path: str, payload: dict[str, Any]
) -> None:
    body = problem(await clients[role].post(path, json=payload, headers=key()), 422, "validation")
    assert any(error["type"] == "extra_forbidden" for error in body["errors"]), body


async def test_unknown_login_field_is_refused(server: Backend) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, verify=False) as client:
        response = await client.post(
            "/api/v1/auth/login",
            json={"username": "super01", "password": "demo1234", "remember": True},
        )
    body = problem(response, 422, "validation")
    assert ["body", "remember"] in field_locs(body)


async def test_body_over_the_limit_with_content_length_is_413(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    payload = json.dumps({"service_item": ITEM, "note": "x" * LIMIT}).encode()
    response = await post_raw(clients["terminal"], "/api/v1/tickets", payload)
    body = problem(response, 413, "payload-too-large")
    assert str(LIMIT) in body["detail"]


async def test_streamed_body_over_the_limit_is_413(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"service_item": "' + ITEM.encode() + b'", "note": "'
        for _ in range(LIMIT // 512 + 2):
            yield b"x" * 512
        yield b'"}'

    response = await post_raw(clients["terminal"], "/api/v1/tickets", chunks())
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    problem(response, 413, "payload-too-large")
    # also on an endpoint that takes no body (the key check reads it)
    response = await post_raw(clients["clerk"], "/api/v1/windows/W01/call-next", chunks())
    problem(response, 413, "payload-too-large")


async def test_streamed_body_within_the_limit_is_served(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"service_'
        yield b'item": "' + ITEM.encode() + b'"}'

    response = await post_raw(clients["terminal"], "/api/v1/tickets", chunks())
    assert response.status_code == 201, response.text


async def test_body_just_under_the_limit_is_not_413(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    payload = json.dumps({"service_item": ITEM, "x": "y" * (LIMIT - 100)}).encode()
    assert len(payload) <= LIMIT
    problem(await post_raw(clients["terminal"], "/api/v1/tickets", payload), 422, "validation")


async def test_invalid_resident_id_in_a_body_names_the_field(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    wrong_check = VALID_ID[:-1] + "1"
    response = await clients["terminal"].post(
        "/api/v1/tickets",
        json={"service_item": ITEM, "applicant_id_number": wrong_check},
        headers=key(),
    )
    body = problem(response, 422, "validation")
    assert field_locs(body) == [["body", "applicant_id_number"]]
    assert "check" in body["detail"]
    response = await clients["portal"].post(
        "/api/v1/cases",
        json={"service_item": ITEM, "applicant": {"id_number": wrong_check, "name": "x"}},
        headers=key(),
    )
    body = problem(response, 422, "validation")
    assert any(loc[:2] == ["body", "applicant"] for loc in field_locs(body)), body
    assert "check" in body["detail"]


# --- paths, methods, queries --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v2/tickets", "/api/v1/"])
async def test_unknown_path_is_a_404_problem(
    clients: dict[str, httpx.AsyncClient], path: str
) -> None:
    problem(await clients["supervisor"].get(path), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/tickets"),
        ("PUT", "/api/v1/me"),
        ("GET", "/api/v1/auth/login"),
        ("PATCH", "/api/v1/cases/1"),
        ("POST", "/healthz"),
        ("GET", "/api/v1/windows/W01/call-next"),  # served outside FastAPI's routes
    ],
)
async def test_wrong_method_is_a_405_problem(
    clients: dict[str, httpx.AsyncClient], method: str, path: str
) -> None:
    response = await clients["supervisor"].request(method, path, headers=key())
    problem(response, 405, "method-not-allowed")
    assert response.headers["allow"]


def b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/cases"])
@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!",
        b64(b"\xff\xfe"),
        b64([1, 2]),
        b64({"before": 3}),
        b64({"after": -1}),
        b64({"after": "3"}),
        b64({"after": 1.5}),
        "x" * 201,
    ],
)
async def test_invalid_cursor_is_422(
    clients: dict[str, httpx.AsyncClient], path: str, cursor: str
) -> None:
    response = await clients["supervisor"].get(path, params={"cursor": cursor})
    body = problem(response, 422, "validation")
    assert ["query", "cursor"] in field_locs(body)


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/cases"])
async def test_a_cursor_past_any_row_is_422_or_empty_not_500(
    clients: dict[str, httpx.AsyncClient], path: str
) -> None:
    response = await clients["supervisor"].get(path, params={"cursor": b64({"after": 10**30})})
    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        problem(response, 422, "validation")


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "9" * 30, "%20", "1e3"])
@pytest.mark.parametrize(
    "template",
    [
        "GET /api/v1/tickets/{}",
        "POST /api/v1/tickets/{}/call",
        "GET /api/v1/cases/{}",
    ],
)
async def test_invalid_path_parameter_is_422(
    clients: dict[str, httpx.AsyncClient], value: str, template: str
) -> None:
    method, path = template.split(" ")
    response = await clients["supervisor"].request(
        method, path.format(value), headers=key() if method == "POST" else {}
    )
    body = problem(response, 422, "validation")
    assert any(loc[0] == "path" for loc in field_locs(body)), body


async def test_unknown_ticket_action_is_422(
    clients: dict[str, httpx.AsyncClient], ticket_id: int
) -> None:
    response = await clients["supervisor"].post(f"/api/v1/tickets/{ticket_id}/fly", headers=key())
    body = problem(response, 422, "validation")
    assert ["path", "action"] in field_locs(body)


async def test_absent_resources_are_404_problems(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    supervisor = clients["supervisor"]
    problem(await supervisor.get("/api/v1/tickets/999999"), 404, "not-found")
    problem(await supervisor.get("/api/v1/cases/999999"), 404, "not-found")
    response = await supervisor.post(
        "/api/v1/windows/W99/pause", json={"reason": "x"}, headers=key()
    )
    problem(response, 404, "not-found")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"status": "flying"},
        {"day": "2026-02-30"},
        {"day": "0000-01-01"},
    ],
)
async def test_invalid_query_parameters_are_422(
    clients: dict[str, httpx.AsyncClient], params: dict[str, str]
) -> None:
    response = await clients["supervisor"].get("/api/v1/tickets", params=params)
    body = problem(response, 422, "validation")
    assert any(loc[:2] == ["query", next(iter(params))] for loc in field_locs(body)), body


async def test_invalid_applicant_filter_is_422(clients: dict[str, httpx.AsyncClient]) -> None:
    response = await clients["supervisor"].get(
        "/api/v1/cases", params={"applicant_id": VALID_ID[:-1] + "1"}
    )
    body = problem(response, 422, "validation")
    assert ["query", "applicant_id"] in field_locs(body)


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 25])
async def test_invalid_last_event_id_is_422(
    clients: dict[str, httpx.AsyncClient], value: str
) -> None:
    response = await clients["supervisor"].get("/api/v1/events", headers={"Last-Event-ID": value})
    problem(response, 422, "validation")


async def test_superscript_last_event_id_is_422_not_500(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    response = await clients["supervisor"].get(
        "/api/v1/events", headers={b"Last-Event-ID": b"\xb2"}
    )
    problem(response, 422, "validation")


async def test_naive_appointment_time_is_422_not_500(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    response = await clients["terminal"].post(
        "/api/v1/tickets",
        json={"service_item": ITEM, "appointment_at": "2030-01-01T09:00:00"},
        headers=key(),
    )
    body = problem(response, 422, "validation")
    assert ["body", "appointment_at"] in field_locs(body)


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_out_of_range_appointment_time_is_422_not_500(
    clients: dict[str, httpx.AsyncClient], when: str
) -> None:
    response = await clients["terminal"].post(
        "/api/v1/tickets", json={"service_item": ITEM, "appointment_at": when}, headers=key()
    )
    problem(response, 422, "validation")


async def test_errors_of_the_auth_layer_are_problems_too(server: Backend) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, verify=False) as client:
        problem(await client.get("/api/v1/tickets"), 401, "unauthenticated")
        response = await client.get("/api/v1/tickets", headers={"Authorization": "Bearer x"})
        problem(response, 401, "unauthenticated")


# --- fuzz ---------------------------------------------------------------------------------------
#
# Mutation fuzzing: for every operation of the OpenAPI document, build a valid request (body
# shaped by the operation's schema, known-good ids, a fresh Idempotency-Key), find the roles that
# get past the role check, then send ~30 requests each with one thing broken: a body field, the
# whole body, a path parameter, a query parameter or a header. Nothing may answer 5xx or drop
# the connection, and every 4xx must be problem+json. Seeded, so a failure replays exactly.

# 5xx the fuzz may find that are already known, each pinned by a strict-xfail test above (when
# a bug is fixed its test XPASSes and fails: then delete the test's mark and the entry here).
KNOWN_5XX: dict[str, Callable[[Request], bool]] = {}

SEED = int(os.environ.get("FUZZ_SEED", "20261125"))
PER_OPERATION = int(os.environ.get("FUZZ_PER_OPERATION", "30"))
LOGIN = ("POST", "/api/v1/auth/login")
LOGOUT = ("POST", "/api/v1/auth/logout")

GARBAGE: list[Any] = [
    None,
    True,
    0,
    -1,
    2**31,
    2**63,
    2**64 + 1,
    -(2**63) - 1,
    10**40,
    1.5,
    1e308,
    "",
    " ",
    "x" * 300,
    "\x00",
    "²",
    "１２",
    "null",
    "MZ-002",
    "W01",
    VALID_ID[:-1] + "1",
    "91350100M000100Y43",
    "2026-13-45",
    "2026-02-30",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2030-01-01T09:00:00",
    "P1D",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "😀" * 5,
    "\u202e",
    [],
    {},
    [1, "a", None],
    {"a": {"b": {"c": []}}},
    {"after": 1},
]

DATETIME_GARBAGE = [
    "2030-01-01T09:00:00",
    "2030-01-01T09:00:00.123456",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2030-02-30T09:00:00Z",
    "2030-01-01T24:00:00Z",
    "1e9",
    "1700000000",
]

HEADER_GARBAGE: list[bytes] = [
    b"abc",
    b'"1"',
    b'W/"1"',
    b"*",
    b"-1",
    b'"' + b"9" * 30 + b'"',
    b"\xb2",
    b"\xff\xfe",
    b"1, 2",
    b"x" * 300,
]
CONTENT_TYPES: list[bytes] = [
    b"application/xml",
    b"text/plain",
    b"multipart/form-data; boundary=x",
    b"application/x-www-form-urlencoded",
    b"application/json; charset=latin-1",
]

# Known-good values by field name, so that the unmutated request gets deep into the handler.
HINTS: dict[str, Any] = {
    "service_item": ITEM,
    "id_number": VALID_ID,
    "applicant_id_number": VALID_ID,
    "applicant_id": VALID_ID,
    "holder_id": VALID_ID,
    "window": "W01",
    "name": "张三",
    "reason": "lunch",
    "material": "id_card",
    "file_name": "id.pdf",
    "content_type": "application/pdf",
    "sha256": "ab" * 32,
    "size": 1000,
    "phone": "13800138000",
    "outcome": "completed",
    "note": "note",
    "priority_class": "elderly",
}
PATH_IDS = {"window": "W01", "material": "id_card"}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def valid_value(
    document: dict[str, Any], schema: dict[str, Any], rng: random.Random, name: str = ""
) -> Any:
    """A plausible valid value for `schema` (a field called `name`)."""
    schema = resolve(document, schema)
    if name in HINTS:
        return HINTS[name]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            options = [s for s in schema[combinator] if resolve(document, s).get("type") != "null"]
            return valid_value(document, rng.choice(options or schema[combinator]), rng, name)
    if "allOf" in schema:
        return valid_value(document, schema["allOf"][0], rng, name)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        return {
            field: valid_value(document, sub, rng, field)
            for field, sub in schema.get("properties", {}).items()
            if field in required or rng.random() < 0.5
        }
    if kind == "array":
        count = max(schema.get("minItems", 0), rng.randint(0, 2))
        return [valid_value(document, schema.get("items", {}), rng) for _ in range(count)]
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        high = schema.get("maximum", low + 10)
        return rng.randint(int(low), int(min(high, low + 10)))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2030-06-03T09:00:00+08:00"
        if fmt == "date":
            return "2030-06-03"
        length = max(schema.get("minLength", 1), 3)
        length = min(length, schema.get("maxLength", length))
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
    return None


def typed_garbage(value: Any, rng: random.Random) -> Any:
    """Garbage of the same JSON type as `value` half of the time (to get past the type check
    and into the value checks), of any type otherwise."""
    if rng.random() < 0.5:
        if isinstance(value, str) and len(value) >= 16 and value[10:11] == "T":
            return rng.choice(DATETIME_GARBAGE)
        if isinstance(value, str):
            return rng.choice([g for g in GARBAGE if isinstance(g, str)])
        if isinstance(value, bool):
            return not value
        if isinstance(value, int):
            return rng.choice([g for g in GARBAGE if type(g) is int])
    return rng.choice(GARBAGE)


def mutate_json(value: Any, rng: random.Random) -> Any:
    """`value` with one place broken: replaced, removed or joined by an unknown field."""
    if isinstance(value, dict) and value and rng.random() < 0.85:
        field = rng.choice(list(value))
        roll = rng.random()
        if roll < 0.1:
            return {k: v for k, v in value.items() if k != field}
        if roll < 0.2:
            return {**value, "unexpected": rng.choice(GARBAGE)}
        return {**value, field: mutate_json(value[field], rng)}
    if isinstance(value, list) and value and rng.random() < 0.7:
        index = rng.randrange(len(value))
        return [*value[:index], mutate_json(value[index], rng), *value[index + 1 :]]
    return typed_garbage(value, rng)


def junk_body(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.3:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    if roll < 0.5:
        depth = rng.choice([50, 500, 1500])
        return b"[" * depth + b"]" * depth
    if roll < 0.7:
        return b'{"a": NaN, "b": Infinity, "c": 1e999, "d": "\\ud800\\udfff\\u0000"}'
    if roll < 0.85:
        return json.dumps(rng.choice(GARBAGE)).encode()
    return b'{"service_item": "' + "中".encode() * 20 + b'"'


@dataclass
class Request:
    role: str
    method: str
    path_params: dict[str, str]
    query: list[tuple[str, str]]
    headers: list[tuple[bytes, bytes]]
    body: bytes | None

    def url(self, template: str) -> str:
        path = template
        for name, value in self.path_params.items():
            path = path.replace("{" + name + "}", value)
        if self.query:
            path += "?" + "&".join(
                f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.query
            )
        return path


def baseline(
    document: dict[str, Any],
    method: str,
    path: str,
    operation: dict[str, Any],
    rng: random.Random,
    ids: dict[str, str],
) -> tuple[dict[str, str], Any]:
    params: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            name = parameter["name"]
            params[name] = ids.get(name) or str(
                valid_value(document, parameter.get("schema", {}), rng, name)
            )
    schema = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )
    if (method, path) == LOGIN:
        body: Any = {"username": "clerk14", "password": "demo1234", "window": "W14"}
    else:
        body = valid_value(document, schema, rng) if schema else None
    return params, body


def mutated(
    operation: dict[str, Any],
    role: str,
    method: str,
    params: dict[str, str],
    body: Any,
    rng: random.Random,
) -> Request:
    headers: list[tuple[bytes, bytes]] = [(b"idempotency-key", uuid.uuid4().hex.encode())]
    raw = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    query: list[tuple[str, str]] = []
    params = dict(params)
    where = rng.choice(["body", "body", "body", "junk", "path", "query", "header", "none"])
    if where == "body" and body is not None:
        raw = json.dumps(mutate_json(body, rng), ensure_ascii=rng.random() < 0.5).encode()
    elif where == "junk" or (where == "body" and body is None):
        raw = junk_body(rng)
    elif where == "path" and params:
        name = rng.choice(list(params))
        params[name] = quote(str(rng.choice(GARBAGE)), safe="") or "x"
    elif where == "query":
        names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        for name in rng.sample([*names, "unknown"], k=min(2, len(names) + 1)):
            value = rng.choice(GARBAGE)
            query.append((name, value if isinstance(value, str) else json.dumps(value)))
    elif where == "header":
        header = rng.choice([b"if-match", b"last-event-id", b"idempotency-key", b"content-type"])
        value = rng.choice(CONTENT_TYPES if header == b"content-type" else HEADER_GARBAGE)
        headers = [h for h in headers if h[0] != header] + [(header, value)]
    if raw is not None and not any(h[0] == b"content-type" for h in headers):
        headers.append((b"content-type", b"application/json"))
    return Request(role, method, params, query, headers, raw)


async def send_fuzz(
    client: httpx.AsyncClient, request: Request, template: str, stream: bool
) -> httpx.Response:
    built = client.build_request(
        request.method,
        request.url(template),
        headers=request.headers,
        content=request.body,
        timeout=10,
    )
    response = await client.send(built, stream=stream)
    try:
        if not stream or response.status_code != 200:
            await response.aread()
    finally:
        await response.aclose()
    return response


async def test_fuzz_every_operation_never_answers_5xx(
    server: Backend, clients: dict[str, httpx.AsyncClient], ticket_id: int, case_id: int
) -> None:
    rng = random.Random(SEED)
    document = openapi_document()
    ids = {**PATH_IDS, "ticket": str(ticket_id), "case": str(case_id)}
    operations = [
        (method.upper(), path, operation)
        for path, item in sorted(document["paths"].items())
        for method, operation in sorted(item.items())
        if method in ("get", "post", "put", "patch", "delete")
    ]
    # ~30 mutations per operation, fewer when the API grows, to stay near ~1,000 requests
    per_operation = max(10, min(PER_OPERATION, PER_OPERATION * 33 // len(operations)))
    failures: list[str] = []
    sent = 0
    async with httpx.AsyncClient(base_url=server.base_url, verify=False) as throwaway:

        async def client_for(role: str, op: tuple[str, str]) -> httpx.AsyncClient:
            if op != LOGOUT:
                return clients[role]
            # logging out must not end the shared sessions: use a session of its own
            name, window = ROLES[role]
            body = {
                "username": name,
                "password": "demo1234",
                **({"window": window} if window else {}),
            }
            token = (await throwaway.post("/api/v1/auth/login", json=body)).json()["token"]
            throwaway.headers["Authorization"] = f"Bearer {token}"
            return throwaway

        for method, path, operation in operations:
            op = (method, path)
            stream = path in ("/api/v1/events", "/api/v1/display/events")
            params, body = baseline(document, method, path, operation, rng, ids)
            allowed = []
            for role in ROLES:
                plain = mutated(operation, role, method, params, body, random.Random(0))
                plain.query, plain.headers = [], [(b"idempotency-key", uuid.uuid4().hex.encode())]
                if body is not None:
                    plain.body = json.dumps(body).encode()
                    plain.headers.append((b"content-type", b"application/json"))
                response = await send_fuzz(await client_for(role, op), plain, path, stream)
                sent += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{method} {plain.url(path)} as {role} (valid): {response.text}"
                    )
                if response.status_code not in (401, 403):
                    allowed.append(role)
            for _ in range(per_operation if op != LOGOUT else 8):
                role = rng.choice(allowed or list(ROLES))
                _, fresh_body = baseline(document, method, path, operation, rng, ids)
                request = mutated(operation, role, method, params, fresh_body, rng)
                url = request.url(path)
                try:
                    response = await send_fuzz(await client_for(role, op), request, path, stream)
                except httpx.HTTPError as exc:  # a dropped connection is as bad as a 500
                    failures.append(f"{method} {url} as {role}: {type(exc).__name__} {exc}")
                    continue
                sent += 1
                if response.status_code >= 500:
                    known = [bug for bug, matches in KNOWN_5XX.items() if matches(request)]
                    if known:
                        print(f"known bug {known[0]}: {method} {url} -> {response.status_code}")
                        # the server closes the connection after a 500: let the pool notice
                        with contextlib.suppress(httpx.HTTPError):
                            await clients[role].get("/healthz")
                        continue
                    failures.append(
                        f"{method} {url} as {role}: {response.status_code} "
                        f"headers={request.headers!r} body={(request.body or b'')[:300]!r}"
                    )
                elif response.status_code >= 400:
                    media = response.headers.get("content-type", "")
                    if not media.startswith("application/problem+json"):
                        failures.append(f"{method} {url}: {response.status_code} as {media}")
    assert not failures, f"{len(failures)} of {sent} fuzz requests failed:\n" + "\n".join(
        failures[:30]
    )
