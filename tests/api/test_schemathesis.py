"""Schemathesis against the checked-in `openapi.json` and a running backend: every operation with
generated valid and invalid inputs, as a role allowed to call it (taken from the authorization
matrix), an idempotency key added to every request, and all of schemathesis' checks on: no 5xx,
every response matching its documented status, headers, content type and schema, negative inputs
refused with a 4xx (which the problem check below requires to be problem+json).

Then the stateful phase: scenarios that chain operations by the links schemathesis infers, with
the same checks. Every check must pass, not only "no 5xx".

The fast version runs a few examples per operation and a dozen short scenarios;
`WORKBENCH_FUZZ_EXAMPLES`, `WORKBENCH_FUZZ_SCENARIOS` and `WORKBENCH_FUZZ_STEPS` raise them (the
soak run uses hundreds)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext

from backend.hall.seed import DEMO_PASSWORD
from backend.server.embedded import EmbeddedServer
from tests.api.test_authorization import MATRIX, USERS_A
from tests.conftest import Backend, seeded_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "4"))
PREFERENCE = ("clerk", "supervisor", "portal", "terminal", "admin")
# The stateful phase: scenarios of calls chained by the links schemathesis infers (an id a
# response gave used in the next request), as many as keep it to about a minute.
SCENARIOS = int(os.environ.get("WORKBENCH_FUZZ_SCENARIOS", "40"))
SCENARIO_STEPS = int(os.environ.get("WORKBENCH_FUZZ_STEPS", "8"))

schema = schemathesis.openapi.from_path(ROOT / "openapi.json")
# The event stream never ends on its own (tests/client/test_event_stream.py covers it).
schema = schema.exclude(path="/api/v1/events").exclude(path="/api/v1/display/events")
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    database="none",
    with_security_parameters=False,  # the test sends each role's real token itself
)
# Valid by the schema is not valid by the hall's rules: ID check digits (GB 11643), cursors the
# server issued, If-Match versions and Last-Event-ID sequence numbers are checked beyond what JSON
# Schema can say, and refused with a 422 problem, which this check is told to accept.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    "2XX",
    "401",
    "403",
    "404",
    "409",
    "412",
    "422",
    "428",
]


@schemathesis.check
def problem_json_for_client_errors(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx with a body is RFC 9457 problem+json with a type and a title."""
    if response.status_code < 400 or not response.content:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/problem+json"), (
        f"{response.status_code} answered with {content_type!r}"
    )
    body = response.json()
    assert isinstance(body.get("type"), str) and body.get("title"), body
    return True


def _login(base_url: str, user: str, window: str | None) -> str:
    body: dict[str, Any] = {"username": user, "password": DEMO_PASSWORD}
    if window:
        body["window"] = window
    response = httpx.post(f"{base_url}/api/v1/auth/login", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, dict[str, str]]]:
    settings_ = seeded_settings(tmp_path_factory.mktemp("schemathesis"))
    with EmbeddedServer(settings_) as server:
        backend = Backend(server)
        tokens = {role: _login(backend.base_url, *USERS_A[role]) for role in USERS_A}
        terminal = {"Authorization": f"Bearer {tokens['terminal']}"}
        for _ in range(5):  # something to call, claim and look at
            httpx.post(
                f"{backend.base_url}/api/v1/tickets",
                json={"service_item": "MZ-002"},
                headers={**terminal, "Idempotency-Key": str(uuid.uuid4())},
            )
        yield backend, tokens


def _role(method: str, path: str) -> str | None:
    row = MATRIX.get((method.upper(), path))
    allowed = getattr(row, "roles", None) if row is not None else None
    if not allowed:
        return None
    return next(role for role in PREFERENCE if role in allowed)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)
def test_api_conforms_to_its_openapi_document(
    case: schemathesis.Case, live: tuple[Backend, dict[str, str]]
) -> None:
    backend, tokens = live
    case.call_and_validate(
        base_url=backend.base_url,
        headers=_headers(case, backend.base_url, tokens),
        additional_checks=[problem_json_for_client_errors],
        timeout=30,
    )


def _headers(case: schemathesis.Case, base_url: str, tokens: dict[str, str]) -> dict[str, str]:
    """A token of a role allowed to call the operation, and an Idempotency-Key for a change."""
    method, path = case.operation.method.upper(), case.operation.path
    role = _role(method, path)
    headers: dict[str, str] = {}
    if path == "/api/v1/auth/logout":  # a throwaway session: logging out must not end ours
        headers["Authorization"] = f"Bearer {_login(base_url, 'super01', None)}"
    elif role is not None:
        headers["Authorization"] = f"Bearer {tokens[role]}"
    declared = {p.name.lower() for p in case.operation.headers}
    if method in {"POST", "PUT"} and "idempotency-key" not in declared:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return headers


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Stateful scenarios against the live backend, with the same headers and checks."""

    base_url: str = ""
    tokens: dict[str, str] = {}  # noqa: RUF012 (set once per run, below)

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "headers": _headers(case, self.base_url, self.tokens),
            "timeout": 30,
        }

    def validate_response(
        self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        super().validate_response(
            response, case, additional_checks=[problem_json_for_client_errors], **kwargs
        )


def test_stateful_scenarios_conform_to_the_openapi_document(
    live: tuple[Backend, dict[str, str]],
) -> None:
    backend, tokens = live
    Workflow.base_url, Workflow.tokens = backend.base_url, tokens
    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=SCENARIO_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.generate],
        )
    )
