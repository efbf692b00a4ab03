"""The login lockout holds an account for one source address (issue 25, item 7): someone
elsewhere who knows a user name can no longer lock the clerk out of the counter, and a source
that keeps failing is locked longer each time. The source is the client's address; behind the
(trusted, loopback) proxy the tests speak through, the X-Forwarded-For one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.hall.seed import DEMO_PASSWORD
from backend.runtime.settings import BackendSettings
from tests.api.test_auth import copied_backend
from tests.conftest import Backend, seeded_settings

PROBLEMS = "https://service-workbench.example/problems/"
ATTACKER = "203.0.113.66"
DESK = "10.1.2.3"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> BackendSettings:
    return seeded_settings(tmp_path_factory.mktemp("lockout-template"))


@pytest.fixture
def hall(template: BackendSettings, tmp_path: Path) -> Iterator[Backend]:
    with copied_backend(template, tmp_path) as backend:
        yield backend


async def _login(
    backend: Backend, source: str, password: str = DEMO_PASSWORD, window: str | None = "W03"
) -> httpx.Response:
    body: dict[str, Any] = {"username": "clerk03", "password": password}
    if window:
        body["window"] = window
    async with httpx.AsyncClient(base_url=backend.base_url, timeout=30.0) as client:
        return await client.post(
            "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": source}
        )


async def _lock_out(backend: Backend, source: str) -> datetime:
    """Wrong passwords from `source` until it is locked; the end of the lockout."""
    for _ in range(backend.settings.lockout_threshold - 1):
        assert (await _login(backend, source, "wrong")).status_code == 401
    locked = await _login(backend, source, "wrong")
    assert locked.status_code == 423, locked.text
    assert locked.json()["type"] == PROBLEMS + "account-locked"
    return datetime.fromisoformat(locked.json()["locked_until"])


async def test_failures_elsewhere_do_not_lock_the_clerk_out_of_the_counter(hall: Backend) -> None:
    await _lock_out(hall, ATTACKER)
    # the attacker's source is locked, even with the right password
    assert (await _login(hall, ATTACKER)).status_code == 423
    # the clerk's own desk still gets in
    desk = await _login(hall, DESK)
    assert desk.status_code == 200, desk.text
    assert desk.json()["me"]["window"] == "W03"


async def test_a_source_that_keeps_failing_is_locked_longer_each_time(hall: Backend) -> None:
    lockout = timedelta(minutes=hall.settings.lockout_minutes)
    first = await _lock_out(hall, ATTACKER)
    assert first - hall.clock.now() <= lockout
    hall.clock.advance(lockout + timedelta(seconds=1))
    second = await _lock_out(hall, ATTACKER)
    assert second - hall.clock.now() > lockout * 2 - timedelta(minutes=1)
    assert second - hall.clock.now() <= lockout * 2
    hall.clock.advance(lockout + timedelta(seconds=1))
    assert (await _login(hall, ATTACKER)).status_code == 423, "still in the doubled lockout"
    hall.clock.advance(lockout)
    assert (await _login(hall, ATTACKER)).status_code == 200


async def test_a_success_forgets_only_its_own_sources_failures(hall: Backend) -> None:
    for _ in range(hall.settings.lockout_threshold - 1):
        assert (await _login(hall, ATTACKER, "wrong")).status_code == 401
    assert (await _login(hall, DESK)).status_code == 200
    # the desk's success did not reset the attacker's count: one more failure locks
    assert (await _login(hall, ATTACKER, "wrong")).status_code == 423


def test_lockouts_stop_doubling_at_a_day_instead_of_overflowing(tmp_path: Path) -> None:
    """A source that has been locked out many times (a spray) is locked for a day at most; the
    doubling factor used to grow until `timedelta` overflowed and the login answered 500."""
    from sqlalchemy import insert, select

    from backend.auth.login_failures import MAX_LOCKOUT, record_failure
    from backend.db.engine import Database
    from backend.db.schema import login_failures, users

    db = Database(seeded_settings(tmp_path).database_url)
    try:
        user_id = db.run_read(
            lambda conn: conn.execute(
                select(users.c.id).where(users.c.username == "clerk01")
            ).scalar_one()
        )
        db.run_write(
            lambda conn: conn.execute(
                insert(login_failures).values(
                    user_id=user_id, source="203.0.113.9", failures=4, lockouts=60
                )
            )
        )
        now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
        until = db.run_write(record_failure, user_id, "203.0.113.9", now, 5, timedelta(minutes=15))
        assert until == now + MAX_LOCKOUT
        # an attempt that checked before that lock was set is refused by it, not counted
        again = db.run_write(record_failure, user_id, "203.0.113.9", now, 5, timedelta(minutes=15))
        assert again == until
    finally:
        db.close()
