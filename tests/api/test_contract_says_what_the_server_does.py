"""The OpenAPI document says what the server does (issue 25, item 5): If-Match is required where
a change without it is refused with 428; a method a path does not have answers 405 with Allow,
even where a parameterised sibling path would take the request; a 422 is documented as what it
is, a schema failure or a rule beyond the schema."""

from __future__ import annotations

import pytest

from backend.server.contract import openapi_document
from tests.conftest import Backend, key

PROBLEMS = "https://service-workbench.example/problems/"


def test_if_match_is_required_wherever_its_absence_is_428() -> None:
    document = openapi_document()
    requiring = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if_match = [p for p in operation.get("parameters", []) if p["name"] == "If-Match"]
            if "428" in operation["responses"]:
                assert if_match and if_match[0]["required"] is True, (method, path)
                requiring.append(f"{method} {path}")
            elif if_match:
                assert not if_match[0].get("required"), (method, path)
    assert sorted(requiring) == [
        "post /api/v1/cases/{case}/decisions",
        "post /api/v1/cases/{case}/merge",
        "post /api/v1/cases/{case}/reassign",
        "put /api/v1/cases/{case}/materials/{material}",
    ]


async def test_a_change_without_if_match_is_still_428(backend: Backend) -> None:
    supervisor = await backend.login("super01")
    response = await supervisor.post(
        "/api/v1/cases/1/reassign", json={"assignee": "clerk01"}, headers=key()
    )
    assert response.status_code in (404, 428), response.text
    await supervisor.aclose()


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/api/v1/tickets/2/merge-candidates", "GET"),
        ("GET", "/api/v1/cases/claim-next", "POST"),
        ("PUT", "/api/v1/tickets/2/merge-candidates", "GET"),
    ],
)
async def test_a_method_the_path_does_not_have_is_405_with_allow(
    backend: Backend, method: str, path: str, allow: str
) -> None:
    clerk = await backend.login("clerk04", "W04")
    response = await clerk.request(method, path, headers=key(), json={})
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEMS + "method-not-allowed"
    await clerk.aclose()


async def test_an_unknown_ticket_action_is_still_422(backend: Backend) -> None:
    clerk = await backend.login("clerk04", "W04")
    response = await clerk.post("/api/v1/tickets/2/teleport", headers=key())
    assert response.status_code == 422, response.text
    await clerk.aclose()


def test_a_422_is_documented_with_the_rules_beyond_the_schema() -> None:
    document = openapi_document()
    preview = document["paths"]["/api/v1/cases/{case}/merge-preview"]["get"]
    described = preview["responses"]["422"]["description"]
    assert "itself" in described and "cursor" in described
