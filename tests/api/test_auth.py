"""Authentication over real HTTP: login per role, lockout, sessions, windows, password storage."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from backend.db.engine import make_engine
from backend.hall.seed import DEMO_PASSWORD
from backend.runtime.clock import Clock
from backend.runtime.settings import BackendSettings
from backend.server.embedded import EmbeddedServer
from tests.conftest import Backend, seeded_settings
from tests.problems import PROBLEMS, problem

LOGIN = "/api/v1/auth/login"


@contextmanager
def copied_backend(
    template: BackendSettings, directory: Path, **overrides: Any
) -> Iterator[Backend]:
    """A backend of its own (own clock, own database): conftest's `seeded_settings` copies a
    demo-hall template database, several times faster than seeding a new one."""
    settings = seeded_settings(directory, **overrides)
    with EmbeddedServer(settings, clock=Clock()) as server:
        yield Backend(server)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> BackendSettings:
    """A seeded demo-hall database that `quick_backend` copies (never served itself)."""
    return seeded_settings(tmp_path_factory.mktemp("template"))


@pytest.fixture
def quick_backend(seeded_template: BackendSettings, tmp_path: Path) -> Iterator[Backend]:
    """Like conftest's `quick_backend` (own server, own clock, own database), but copied."""
    with copied_backend(seeded_template, tmp_path) as backend:
        yield backend


def anon(backend: Backend) -> httpx.AsyncClient:
    """A client without a token (no TLS context: these are plain-HTTP loopback calls)."""
    return httpx.AsyncClient(base_url=backend.base_url, timeout=30.0, verify=False)


def read_file(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


async def login(
    backend: Backend, username: str, password: str = DEMO_PASSWORD, window: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"username": username, "password": password}
    if window is not None:
        body["window"] = window
    async with anon(backend) as client:
        return await client.post(LOGIN, json=body)


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def get_me(backend: Backend, headers: dict[str, str]) -> httpx.Response:
    async with anon(backend) as client:
        return await client.get("/api/v1/me", headers=headers)


# --- login per role ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("super01", "supervisor"),
        ("admin01", "admin"),
        ("terminal01", "terminal"),
        ("portal01", "portal"),
    ],
)
async def test_login_without_window_for_non_clerk_roles(
    backend: Backend, username: str, role: str
) -> None:
    response = await login(backend, username)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token"] and len(body["token"]) >= 32
    datetime.fromisoformat(body["expires_at"])
    assert body["me"]["username"] == username
    assert body["me"]["role"] == role
    assert body["me"]["hall"] == "DL-ZS"
    assert body["me"]["window"] is None
    me = await get_me(backend, bearer(response))
    assert me.status_code == 200
    assert me.json() == body["me"]


async def test_clerk_logs_in_to_a_window(quick_backend: Backend) -> None:
    response = await login(quick_backend, "clerk03", window="W03")
    body = response.json()
    assert body["me"]["role"] == "clerk"
    assert body["me"]["window"] == "W03"
    me = await get_me(quick_backend, bearer(response))
    assert me.json()["window"] == "W03"
    assert me.json()["display_name"]
    # the window list shows who is logged in there
    async with anon(quick_backend) as client:
        windows = await client.get("/api/v1/windows", headers=bearer(response))
    assert windows.status_code == 200


async def test_clerk_without_window_is_refused(backend: Backend) -> None:
    body = problem(await login(backend, "clerk01"), 422, "validation")
    assert any(error["loc"][-1] == "window" for error in body["errors"])


async def test_clerk_with_unknown_window_is_404(backend: Backend) -> None:
    problem(await login(backend, "clerk01", window="W99"), 404, "not-found")


@pytest.mark.parametrize("username", ["super01", "admin01", "terminal01", "portal01"])
async def test_non_clerk_giving_a_window_is_refused(backend: Backend, username: str) -> None:
    body = problem(await login(backend, username, window="W01"), 422, "validation")
    assert any(error["loc"][-1] == "window" for error in body["errors"])


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "super01"},
        {"password": DEMO_PASSWORD},
        {"username": "", "password": DEMO_PASSWORD},
        {"username": "super01", "password": ""},
        {"username": 1, "password": DEMO_PASSWORD},
        {"username": "super01", "password": DEMO_PASSWORD, "role": "admin"},
    ],
)
async def test_malformed_login_bodies_are_422(backend: Backend, body: dict[str, Any]) -> None:
    async with anon(backend) as client:
        problem(await client.post(LOGIN, json=body), 422, "validation")


# --- wrong credentials and lockout --------------------------------------------------------------


async def test_wrong_password_and_unknown_user_get_the_same_answer(backend: Backend) -> None:
    wrong = problem(await login(backend, "clerk12", password="wrong-password"), 401)
    unknown = problem(await login(backend, "nobody-here", password=DEMO_PASSWORD), 401)
    assert wrong["type"] == unknown["type"] == PROBLEMS + "invalid-credentials"
    assert wrong["detail"] == unknown["detail"]
    assert wrong["title"] == unknown["title"]
    # one failure does not lock
    assert (await login(backend, "clerk12", window="W12")).status_code == 200


async def test_five_failures_lock_the_account_until_the_lockout_ends(
    quick_backend: Backend,
) -> None:
    threshold = quick_backend.settings.lockout_threshold
    assert threshold == 5
    for _ in range(threshold - 1):
        problem(await login(quick_backend, "super01", password="nope"), 401, "invalid-credentials")
    locked = problem(await login(quick_backend, "super01", password="nope"), 423, "account-locked")
    until = datetime.fromisoformat(locked["locked_until"])
    lockout = timedelta(minutes=quick_backend.settings.lockout_minutes)
    assert until - quick_backend.clock.now() <= lockout
    assert until - quick_backend.clock.now() > lockout - timedelta(minutes=1)
    # even the right password is refused while locked, and says until when
    again = problem(await login(quick_backend, "super01"), 423, "account-locked")
    assert again["locked_until"] == locked["locked_until"]
    # other accounts are not affected
    assert (await login(quick_backend, "admin01")).status_code == 200
    # just before the end: still locked
    quick_backend.clock.advance(lockout - timedelta(seconds=30))
    problem(await login(quick_backend, "super01"), 423, "account-locked")
    # after it: the right password works again
    quick_backend.clock.advance(timedelta(seconds=31))
    response = await login(quick_backend, "super01")
    assert response.status_code == 200, response.text


async def test_after_a_lockout_the_count_starts_again(quick_backend: Backend) -> None:
    for _ in range(5):
        await login(quick_backend, "super01", password="nope")
    quick_backend.clock.advance(
        timedelta(minutes=quick_backend.settings.lockout_minutes, seconds=1)
    )
    # a single failure after the lockout is an ordinary 401, not a new lock
    problem(await login(quick_backend, "super01", password="nope"), 401, "invalid-credentials")
    assert (await login(quick_backend, "super01")).status_code == 200


async def test_a_success_resets_the_failure_count(quick_backend: Backend) -> None:
    for _ in range(4):
        problem(await login(quick_backend, "super01", password="nope"), 401, "invalid-credentials")
    assert (await login(quick_backend, "super01")).status_code == 200
    for _ in range(4):
        problem(await login(quick_backend, "super01", password="nope"), 401, "invalid-credentials")
    # 8 failures in all, but never 5 in a row
    assert (await login(quick_backend, "super01")).status_code == 200


async def test_unknown_users_are_never_locked_and_never_revealed(quick_backend: Backend) -> None:
    for _ in range(7):
        problem(await login(quick_backend, "ghost", password="nope"), 401, "invalid-credentials")


async def test_lockout_is_logged_as_an_event(quick_backend: Backend) -> None:
    for _ in range(5):
        await login(quick_backend, "super01", password="nope")
    engine = make_engine(quick_backend.settings.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT subject_id FROM events WHERE type = 'user.locked'")
        ).fetchall()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("super01",)]


# --- sessions: /me, logout, expiry, bad tokens --------------------------------------------------


async def test_missing_authorization_is_401_with_a_bearer_challenge(backend: Backend) -> None:
    async with anon(backend) as client:
        response = await client.get("/api/v1/me")
    problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token",
        "Bearer  \tx",
        "Bearer",
        "Basic c3VwZXIwMTpkZW1vMTIzNA==",
        "Token abc",
        "bearer " + "x" * 4000,
    ],
)
async def test_garbage_tokens_are_401(backend: Backend, authorization: str) -> None:
    async with anon(backend) as client:
        response = await client.get("/api/v1/me", headers={"Authorization": authorization})
    problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_logout_revokes_the_token(backend: Backend) -> None:
    headers = bearer(await login(backend, "super01"))
    other = bearer(await login(backend, "super01"))
    async with anon(backend) as client:
        response = await client.post("/api/v1/auth/logout", headers=headers)
        assert response.status_code == 204
        problem(await client.get("/api/v1/me", headers=headers), 401, "token-revoked")
        problem(await client.post("/api/v1/auth/logout", headers=headers), 401, "token-revoked")
        # only that session ended
        assert (await client.get("/api/v1/me", headers=other)).status_code == 200


async def test_token_expires_after_its_ttl(quick_backend: Backend) -> None:
    response = await login(quick_backend, "super01")
    headers = bearer(response)
    expires = datetime.fromisoformat(response.json()["expires_at"])
    ttl = timedelta(minutes=quick_backend.settings.token_ttl_minutes)
    assert abs(expires - (quick_backend.clock.now() + ttl)) < timedelta(minutes=1)
    quick_backend.clock.advance(ttl - timedelta(minutes=1))
    assert (await get_me(quick_backend, headers)).status_code == 200
    quick_backend.clock.advance(timedelta(minutes=2))
    expired = await get_me(quick_backend, headers)
    problem(expired, 401, "token-expired")
    assert expired.headers["www-authenticate"].startswith("Bearer")
    # a new login works
    assert (await get_me(quick_backend, bearer(await login(quick_backend, "super01")))).is_success


# --- windows ------------------------------------------------------------------------------------


async def test_window_taken_by_another_live_clerk(quick_backend: Backend) -> None:
    first = bearer(await login(quick_backend, "clerk01", window="W01"))
    taken = problem(await login(quick_backend, "clerk02", window="W01"), 409, "window-taken")
    assert "W01" in taken["detail"]
    # the refused clerk was not logged in anywhere; their own window is still free
    assert (await login(quick_backend, "clerk02", window="W02")).status_code == 200
    # the same clerk may log in to their own window again (a restarted workbench)
    again = await login(quick_backend, "clerk01", window="W01")
    assert again.status_code == 200, again.text
    # once every session of clerk01 on W01 has ended, W01 is free
    async with anon(quick_backend) as client:
        assert (await client.post("/api/v1/auth/logout", headers=first)).status_code == 204
        problem(await login(quick_backend, "clerk03", window="W01"), 409, "window-taken")
        response = await client.post("/api/v1/auth/logout", headers=bearer(again))
        assert response.status_code == 204
    third = await login(quick_backend, "clerk03", window="W01")
    assert third.status_code == 200, third.text
    assert third.json()["me"]["window"] == "W01"


async def test_window_is_free_again_when_the_session_expires(quick_backend: Backend) -> None:
    await login(quick_backend, "clerk01", window="W01")
    problem(await login(quick_backend, "clerk02", window="W01"), 409, "window-taken")
    quick_backend.clock.advance(
        timedelta(minutes=quick_backend.settings.token_ttl_minutes, seconds=1)
    )
    assert (await login(quick_backend, "clerk02", window="W01")).status_code == 200


async def test_concurrent_logins_to_one_window_let_exactly_one_clerk_in(
    quick_backend: Backend,
) -> None:
    import asyncio

    names = [f"clerk{n:02d}" for n in range(1, 9)]
    responses = await asyncio.gather(*(login(quick_backend, n, window="W05") for n in names))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (len(names) - 1)


# --- password storage ---------------------------------------------------------------------------


@pytest.mark.sqlite_only
async def test_passwords_are_stored_as_argon2id_hashes(quick_backend: Backend) -> None:
    path = quick_backend.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT username, password_hash FROM users").fetchall()
        tokens = conn.execute("SELECT token_hash FROM sessions").fetchall()
    assert len(rows) >= 18
    hashes = [h for _, h in rows]
    assert all(h.startswith("$argon2id$") for h in hashes), hashes[:3]
    assert len(set(hashes)) == len(hashes), "every hash has its own salt"
    assert not any(DEMO_PASSWORD in h for h in hashes)
    assert DEMO_PASSWORD.encode() not in read_file(path)
    # tokens are stored hashed too
    token = (await login(quick_backend, "super01")).json()["token"]
    with sqlite3.connect(path) as conn:
        stored = {row[0] for row in conn.execute("SELECT token_hash FROM sessions")}
    assert token not in stored
    assert len(stored) == len(tokens) + 1
