"""The typed client against the real backend over 127.0.0.1: every method and each typed error.

Only faults the real server cannot produce on demand (a read timeout after the server committed,
429, 5xx, garbage) are injected with an httpx transport.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api_client import Client, Mutation, RetryPolicy
from api_client.errors import (
    AccountLocked,
    ApiError,
    Conflict,
    Forbidden,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    InvalidCredentials,
    InvalidResponse,
    InvalidTransition,
    NetworkError,
    NotFound,
    PreconditionFailed,
    RateLimited,
    RecallTooSoon,
    RequestTimeout,
    ServerError,
    TokenExpired,
    TokenRevoked,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    WindowTaken,
)
from api_client.models import (
    CaseIntake,
    IntakeApplicant,
    TicketActionRequest,
    TicketIssue,
    WalkIn,
)
from backend.hall.seed import DEMO_PASSWORD
from backend.server.embedded import free_port
from tests.conftest import Backend

MARRIAGE = "MZ-001"  # served by window W04 only
PASSPORT = "GA-003"  # served by window W07 only
APPLICANT = IntakeApplicant(id_number="210202197806210176", name="王伟")
FAST_RETRY = RetryPolicy(attempts=3, timeout=3.0, wait_initial=0.01, wait_max=0.05)


async def logged_in(backend: Backend, username: str, window: str | None = None) -> Client:
    client = Client(backend.base_url, retry=FAST_RETRY)
    await client.login(username, DEMO_PASSWORD, window)
    return client


@pytest.fixture
async def terminal_api(fresh_backend: Backend) -> AsyncIterator[Client]:
    async with await logged_in(fresh_backend, "terminal01") as client:
        yield client


@pytest.fixture
async def clerk04(fresh_backend: Backend) -> AsyncIterator[Client]:
    async with await logged_in(fresh_backend, "clerk04", "W04") as client:
        yield client


# -- auth ------------------------------------------------------------------------------------


async def test_login_me_and_logout(backend: Backend) -> None:
    async with Client(backend.base_url) as api:
        answer = await api.login("super01", DEMO_PASSWORD)
        assert answer.me.role == "supervisor" and api.token == answer.token
        me = await api.me()
        assert me.username == "super01" and me.window is None
        token = api.token
        await api.logout()
        assert api.token is None
        api.token = token
        with pytest.raises(TokenRevoked):
            await api.me()


async def test_without_a_token_is_unauthenticated(backend: Backend) -> None:
    async with Client(backend.base_url) as api:
        with pytest.raises(Unauthenticated) as caught:
            await api.me()
    assert type(caught.value) is Unauthenticated and caught.value.status == 401


async def test_wrong_password_is_invalid_credentials(backend: Backend) -> None:
    async with Client(backend.base_url) as api:
        with pytest.raises(InvalidCredentials, match="wrong"):
            await api.login("super01", "not-the-password")


async def test_repeated_failures_lock_the_account(fresh_backend: Backend) -> None:
    async with Client(fresh_backend.base_url) as api:
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                await api.login("clerk13", "wrong")
        with pytest.raises(AccountLocked) as caught:
            await api.login("clerk13", "wrong")
    assert caught.value.status == 423 and caught.value.locked_until


async def test_an_expired_token_is_token_expired(fresh_backend: Backend) -> None:
    async with await logged_in(fresh_backend, "super01") as api:
        fresh_backend.clock.advance(timedelta(days=2))
        with pytest.raises(TokenExpired):
            await api.me()


async def test_a_clerk_must_name_a_window(backend: Backend) -> None:
    async with Client(backend.base_url) as api:
        with pytest.raises(ValidationFailed) as caught:
            await api.login("clerk12", DEMO_PASSWORD)
    assert [f.field for f in caught.value.field_errors] == ["body.window"]


async def test_a_window_in_use_is_window_taken(fresh_backend: Backend) -> None:
    async with (
        await logged_in(fresh_backend, "clerk04", "W04"),
        Client(fresh_backend.base_url) as other,
    ):
        with pytest.raises(WindowTaken) as caught:
            await other.login("clerk05", DEMO_PASSWORD, "W04")
    assert isinstance(caught.value, Conflict)


# -- catalogue and windows ---------------------------------------------------------------------


async def test_catalogue_and_windows(backend: Backend) -> None:
    async with await logged_in(backend, "super01") as api:
        items = await api.service_items()
        windows = await api.windows()
    assert MARRIAGE in {item.code for item in items.items}
    assert any(w.code == "W04" and MARRIAGE in w.service_items for w in windows.items)
    assert windows.priority_classes


async def test_pause_and_resume_a_window(clerk04: Client) -> None:
    paused = await clerk04.pause_window("W04", "lunch")
    assert paused.state == "paused" and paused.pause_reason == "lunch"
    with pytest.raises(InvalidTransition) as caught:
        await clerk04.pause_window("W04", "again")
    assert caught.value.current == {"state": "paused"}
    resumed = await clerk04.resume_window("W04")
    assert resumed.state == "open"


async def test_a_clerk_cannot_pause_another_window(clerk04: Client) -> None:
    with pytest.raises(Forbidden):
        await clerk04.pause_window("W07", "not mine")


# -- tickets ---------------------------------------------------------------------------------


async def test_issue_list_and_read_tickets(terminal_api: Client, fresh_backend: Backend) -> None:
    issued = [await terminal_api.issue_ticket(TicketIssue(service_item=MARRIAGE)) for _ in range(3)]
    assert issued[0].status == "waiting" and issued[0].waiting_ahead == 0
    async with await logged_in(fresh_backend, "super01") as staff:
        page = await staff.tickets(service_item=MARRIAGE, limit=2)
        assert len(page.items) == 2 and page.next_cursor
        every = [t.id async for t in staff.iter_tickets(service_item=MARRIAGE, limit=2)]
        assert every == [t.id for t in issued]
        assert (await staff.ticket(issued[1].id)).number == issued[1].number
        with pytest.raises(NotFound):
            await staff.ticket(987654)


async def test_a_clerk_cannot_issue_tickets(clerk04: Client) -> None:
    with pytest.raises(Forbidden):
        await clerk04.issue_ticket(TicketIssue(service_item=MARRIAGE))


async def test_unknown_service_item_is_a_validation_error(terminal_api: Client) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await terminal_api.issue_ticket(TicketIssue(service_item="NOPE-1"))
    assert caught.value.field_errors


async def test_call_next_serve_and_finish(terminal_api: Client, clerk04: Client) -> None:
    assert await clerk04.call_next("W04") is None
    ticket = await terminal_api.issue_ticket(TicketIssue(service_item=MARRIAGE))
    called = await clerk04.call_next("W04")
    assert called is not None and called.id == ticket.id and called.status == "called"
    with pytest.raises(RecallTooSoon) as too_soon:
        await clerk04.ticket_action(called.id, "recall")
    assert too_soon.value.retry_after and too_soon.value.retry_after > 0
    serving = await clerk04.ticket_action(called.id, "start", version=called.version)
    with pytest.raises(PreconditionFailed) as stale:
        await clerk04.ticket_action(called.id, "park", version=called.version)
    assert stale.value.current is not None and stale.value.current["status"] == "serving"
    with pytest.raises(InvalidTransition) as wrong:
        await clerk04.ticket_action(called.id, "start")
    assert wrong.value.allowed and "finish" in wrong.value.allowed
    with pytest.raises(ValidationFailed) as missing:
        await clerk04.ticket_action(called.id, "finish")
    assert [f.field for f in missing.value.field_errors] == ["body.outcome"]
    done = await clerk04.ticket_action(
        serving.id, "finish", TicketActionRequest(outcome="completed"), version=serving.version
    )
    assert done.status == "done" and done.outcome == "completed"


async def test_walk_in(clerk04: Client) -> None:
    ticket = await clerk04.walk_in("W04", WalkIn(service_item=MARRIAGE))
    assert ticket.walk_in and ticket.status == "serving" and ticket.window == "W04"


async def test_replay_returns_the_stored_answer(terminal_api: Client) -> None:
    mutation = Mutation.issue_ticket(TicketIssue(service_item=MARRIAGE))
    first = await terminal_api.send(mutation, idempotency_key="replay-1")
    again = await terminal_api.send(mutation, idempotency_key="replay-1")
    assert not first.replayed and again.replayed and again.body == first.body


async def test_same_key_other_body_is_key_reused(terminal_api: Client) -> None:
    await terminal_api.issue_ticket(TicketIssue(service_item=MARRIAGE), idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused) as caught:
        await terminal_api.issue_ticket(TicketIssue(service_item=PASSPORT), idempotency_key="k-1")
    assert isinstance(caught.value, ValidationFailed)


# -- cases -----------------------------------------------------------------------------------


async def test_case_intake_claim_and_lists(fresh_backend: Backend) -> None:
    async with (
        await logged_in(fresh_backend, "portal01") as portal,
        await logged_in(fresh_backend, "clerk04", "W04") as clerk,
    ):
        assert await clerk.claim_next_case() is None
        intake = CaseIntake(service_item=MARRIAGE, applicant=APPLICANT, portal_reference="P-1")
        created = await portal.create_case(intake)
        assert created.status == "submitted" and created.applicant.name == "王伟"
        claimed = await clerk.claim_next_case()
        assert claimed is not None and claimed.id == created.id and claimed.assignee == "clerk04"
        assert (await clerk.case(created.id)).version == claimed.version
        page = await clerk.cases(assignee="clerk04")
        assert [c.id for c in page.items] == [created.id]
        assert [c.id async for c in clerk.iter_cases(limit=1)] == [created.id]
        with pytest.raises(NotFound):
            await clerk.case(987654)


async def test_a_clerk_cannot_file_online_applications(clerk04: Client) -> None:
    with pytest.raises(Forbidden):
        await clerk04.create_case(CaseIntake(service_item=MARRIAGE, applicant=APPLICANT))


async def test_operations_endpoints(backend: Backend) -> None:
    async with Client(backend.base_url) as api:
        assert (await api.healthz())["status"] == "ok"
        assert (await api.readyz())["status"] == "ready"


# -- transport faults ------------------------------------------------------------------------


async def test_nobody_listening_is_network_error() -> None:
    async with Client(f"http://127.0.0.1:{free_port()}", retry=FAST_RETRY) as api:
        with pytest.raises(NetworkError) as caught:
            await api.healthz()
    assert isinstance(caught.value, Unavailable) and caught.value.retryable


class CommitThenTimeout(httpx.AsyncBaseTransport):
    """Forwards to the real server, then loses the first answer as a read timeout."""

    def __init__(self) -> None:
        self.real = httpx.AsyncHTTPTransport()
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.real.handle_async_request(request)
        if "Idempotency-Key" in request.headers and self.lost == 0:
            await response.aread()
            self.lost += 1
            raise httpx.ReadTimeout("lost after commit", request=request)
        return response


async def test_read_timeout_after_commit_is_retried_once_applied(fresh_backend: Backend) -> None:
    transport = CommitThenTimeout()
    async with Client(fresh_backend.base_url, retry=FAST_RETRY, transport=transport) as api:
        await api.login("terminal01", DEMO_PASSWORD)
        ticket = await api.issue_ticket(TicketIssue(service_item=MARRIAGE))
    assert transport.lost == 1
    async with await logged_in(fresh_backend, "super01") as staff:
        listed = (await staff.tickets(service_item=MARRIAGE)).items
    assert [t.id for t in listed] == [ticket.id]


async def test_read_timeout_without_retry_is_request_timeout(fresh_backend: Backend) -> None:
    async with Client(
        fresh_backend.base_url, retry=RetryPolicy(attempts=1), transport=CommitThenTimeout()
    ) as api:
        await api.login("terminal01", DEMO_PASSWORD)
        with pytest.raises(RequestTimeout):
            await api.issue_ticket(TicketIssue(service_item=MARRIAGE))


def problem(status: int, kind: str, **extra: Any) -> httpx.Response:
    body = {"type": f"https://service-workbench.example/problems/{kind}", "title": kind}
    return httpx.Response(
        status,
        content=json.dumps({**body, "status": status, **extra}),
        headers={"Content-Type": "application/problem+json"},
    )


def scripted(*answers: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return httpx.MockTransport(handler), seen


async def test_5xx_is_retried_on_reads_then_raised_as_server_error() -> None:
    transport, seen = scripted(problem(503, "storage-unavailable"))
    async with Client("http://hall.test", retry=FAST_RETRY, transport=transport) as api:
        with pytest.raises(ServerError):
            await api.windows()
    assert len(seen) == 3


async def test_keyed_write_retries_in_flight_with_the_same_key() -> None:
    ok = httpx.Response(204)
    transport, seen = scripted(problem(409, "idempotency-in-flight"), ok)
    async with Client("http://hall.test", retry=FAST_RETRY, transport=transport) as api:
        assert await api.call_next("W04") is None
    keys = {r.headers["Idempotency-Key"] for r in seen}
    assert len(seen) == 2 and len(keys) == 1


async def test_login_is_never_retried() -> None:
    transport, seen = scripted(problem(503, "storage-unavailable"))
    async with Client("http://hall.test", retry=FAST_RETRY, transport=transport) as api:
        with pytest.raises(ServerError):
            await api.login("x", "y")
    assert len(seen) == 1


async def test_rate_limited_carries_retry_after() -> None:
    transport, _ = scripted(problem(429, "rate-limited", retry_after=30))
    async with Client("http://hall.test", retry=FAST_RETRY, transport=transport) as api:
        with pytest.raises(RateLimited) as caught:
            await api.me()
    assert caught.value.retry_after == 30


async def test_in_flight_maps_to_its_type() -> None:
    transport, _ = scripted(problem(409, "idempotency-in-flight"))
    async with Client("http://hall.test", retry=RetryPolicy(attempts=1), transport=transport) as a:
        with pytest.raises(IdempotencyInFlight):
            await a.claim_next_case()


async def test_unreadable_answers_are_invalid_response_not_pydantic() -> None:
    transport, _ = scripted(httpx.Response(200, json={"unexpected": True}))
    async with Client("http://hall.test", transport=transport) as api:
        with pytest.raises(InvalidResponse):
            await api.me()
    transport, _ = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
    async with Client("http://hall.test", retry=RetryPolicy(attempts=1), transport=transport) as a:
        with pytest.raises(ServerError, match="502"):
            await a.me()


async def test_every_error_is_an_api_error() -> None:
    for status in (400, 401, 403, 404, 409, 412, 413, 418, 422, 423, 428, 429, 500):
        transport, _ = scripted(problem(status, "something-new"))
        async with Client(
            "http://hall.test", retry=RetryPolicy(attempts=1), transport=transport
        ) as api:
            with pytest.raises(ApiError) as caught:
                await api.me()
        assert caught.value.status == status
