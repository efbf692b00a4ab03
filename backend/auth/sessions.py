"""Provides authentication: login, logout, and the `Principal` every endpoint depends on.

Tokens are opaque random strings; only their SHA-256 is stored, with an expiry. Five failed
logins in a row lock the account for a configured time.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, bindparam, func, select, update

from backend.db.event_log import Actor
from backend.db.schema import halls, sessions, users, windows
from backend.problems import Forbidden, NotFound, TokenExpired, TokenRevoked, Unauthenticated
from backend.runtime.state import AppState

STAFF = frozenset({"clerk", "supervisor", "admin"})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: int
    username: str
    display_name: str
    role: str
    hall_id: int
    hall_code: str
    window_id: int | None
    token_hash: str
    expires_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.username)

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"This needs one of the roles {', '.join(roles)}; you are {self.role}.")

    def require_hall(self, hall_id: int) -> None:
        """Another hall's things do not exist for the caller: 404, as for an unknown id (a 403
        would tell that the id exists)."""
        if self.role != "admin" and hall_id != self.hall_id:
            raise NotFound("There is no such resource in your hall.")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "Send a bearer token: log in at /api/v1/auth/login.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


# Built once: constructing SQLAlchemy statements costs more than running them on SQLite.
_PRINCIPAL_BY_TOKEN = (
    select(
        sessions.c.expires_at,
        sessions.c.revoked_at,
        sessions.c.window_id,
        users.c.id,
        users.c.username,
        users.c.display_name,
        users.c.role,
        users.c.active,
        users.c.hall_id,
        halls.c.code.label("hall_code"),
    )
    .join(users, users.c.id == sessions.c.user_id)
    .join(halls, halls.c.id == users.c.hall_id)
    .where(sessions.c.token_hash == bindparam("digest"))
)


def load_principal(conn: Connection, digest: str, now: datetime) -> Principal:
    row = conn.execute(_PRINCIPAL_BY_TOKEN, {"digest": digest}).first()
    challenge = {"WWW-Authenticate": "Bearer"}
    if row is None or not row.active:
        raise Unauthenticated("The token is not known. Log in again.", headers=challenge)
    if row.revoked_at is not None:
        raise TokenRevoked("This session was logged out. Log in again.", headers=challenge)
    if row.expires_at <= now:
        raise TokenExpired("This session has expired. Log in again.", headers=challenge)
    return Principal(
        user_id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        hall_id=row.hall_id,
        hall_code=row.hall_code,
        window_id=row.window_id,
        token_hash=digest,
        expires_at=row.expires_at,
    )


async def current_principal(request: Request) -> Principal:
    # the state is read here, not injected: every request resolves this dependency, and each
    # sub-dependency costs FastAPI tens of microseconds
    state: AppState = request.app.state.workbench
    digest = token_digest(_bearer(request))
    now = state.clock.now()
    cached = state.principals.get(digest, now)
    if cached is not None:
        return cached
    principal = await state.db.read_one_statement(load_principal, digest, now)
    state.principals.put(digest, principal, now)
    return principal


async def session_still_valid(state: AppState, digest: str) -> bool:
    """Whether the session of token `digest` may still be used: not logged out (here, or on
    another instance within the principal cache's seconds), not expired, its user active.
    Long-lived responses (the event streams) ask this as they go."""
    now = state.clock.now()
    if state.principals.get(digest, now) is not None:
        return True
    try:
        principal = await state.db.read_one_statement(load_principal, digest, now)
    except (Unauthenticated, TokenRevoked, TokenExpired):
        return False
    state.principals.put(digest, principal, now)
    return True


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency giving the principal, refused with 403 unless it has one of `roles`."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        principal.require(*roles)
        return principal

    return dependency


# Delivered at commit to every instance's listener (backend.server.pg_listener), which forgets the
# session at once instead of trusting its cached principal for up to `principal_cache_seconds`.
SESSIONS_CHANNEL = "workbench_sessions"


def revoke_session(conn: Connection, digest: str, now: datetime) -> None:
    """End a session and free the window it was logged in to, unless the same clerk still has
    another live session there (a second login from a restarted workbench)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_notify(SESSIONS_CHANNEL, digest)))
    row = conn.execute(
        select(sessions.c.user_id, sessions.c.window_id).where(sessions.c.token_hash == digest)
    ).first()
    conn.execute(
        update(sessions)
        .where(sessions.c.token_hash == digest, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if row is None or row.window_id is None:
        return
    still_there = conn.execute(
        select(sessions.c.token_hash).where(
            sessions.c.user_id == row.user_id,
            sessions.c.window_id == row.window_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
        )
    ).first()
    if still_there is None:
        conn.execute(
            update(windows)
            .where(windows.c.id == row.window_id, windows.c.clerk_id == row.user_id)
            .values(clerk_id=None)
        )


def session_expiry(now: datetime, ttl_minutes: int) -> datetime:
    return now + timedelta(minutes=ttl_minutes)
