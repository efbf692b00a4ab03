"""Provides `/api/v1/auth/login`, `/api/v1/auth/logout` and `/api/v1/me`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection, insert, select, update

from api_client.models import LoginRequest, LoginResponse, Me
from backend.auth.login_failures import forget_failures, locked_until, record_failure, source_of
from backend.auth.sessions import Principal, new_token, revoke_session, token_digest
from backend.db.event_log import Actor, append_event
from backend.db.schema import halls, sessions, users, windows
from backend.db.window_locks import LocksWindow
from backend.hall.catalogue import hall_timezone, window_by_code
from backend.problems import AccountLocked, InvalidCredentials, InvalidInput, WindowTaken
from backend.routes.common import AnyUser, State

router = APIRouter(prefix="/api/v1", tags=["auth"])


def _find_user(conn: Connection, username: str) -> Any:
    return conn.execute(
        select(users, halls.c.code.label("hall_code"), halls.c.name.label("hall_name"))
        .join(halls, halls.c.id == users.c.hall_id)
        .where(users.c.username == username)
    ).first()


def _window_in_use(conn: Connection, window: Any, user_id: int, now: datetime) -> bool:
    if window.clerk_id is None or window.clerk_id == user_id:
        return False
    live = conn.execute(
        select(sessions.c.token_hash).where(
            sessions.c.user_id == window.clerk_id,
            sessions.c.window_id == window.id,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
        )
    ).first()
    return live is not None


def account_locked(until: datetime) -> AccountLocked:
    """The refusal of a login while the account is locked for its source."""
    return AccountLocked(
        f"Too many failed logins; the account is locked until {until:%H:%M} UTC.",
        locked_until=until.isoformat(),
    )


def _open_session(
    conn: Connection,
    user: Any,
    window_code: str | None,
    digest: str,
    now: datetime,
    expires: datetime,
    source: str,
) -> str | None:
    # a lockout set by a parallel attempt after this one checked: refused here, in the write
    until = locked_until(conn, user.id, source, now)
    if until is not None:
        raise account_locked(until)
    window_id = None
    if user.role == "clerk":
        if not window_code:
            raise InvalidInput(
                "window: a clerk logs in to a window; choose one.",
                errors=[{"loc": ["body", "window"], "msg": "field required", "type": "missing"}],
            )
        window = window_by_code(conn, user.hall_id, window_code)
        # lock the window's row so two clerks logging in at once cannot both find it free (the
        # lock its UPDATE takes, as `backend.db.window_locks` takes it for the batch)
        window = conn.execute(
            select(windows).where(windows.c.id == window.id).with_for_update(key_share=True)
        ).one()
        if _window_in_use(conn, window, user.id, now):
            raise WindowTaken(f"Window {window_code} is in use by another clerk; choose another.")
        window_id = window.id
        conn.execute(update(windows).where(windows.c.id == window.id).values(clerk_id=user.id))
    elif window_code:
        raise InvalidInput(
            f"window: only clerks log in to a window; a {user.role} does not.",
            errors=[{"loc": ["body", "window"], "msg": "not allowed", "type": "value_error"}],
        )
    forget_failures(conn, user.id, source)
    conn.execute(
        insert(sessions).values(
            token_hash=digest,
            user_id=user.id,
            window_id=window_id,
            created_at=now,
            expires_at=expires,
        )
    )
    append_event(
        conn,
        hall_id=user.hall_id,
        type="user.logged_in",
        subject_type="user",
        subject_id=user.username,
        actor=Actor(user.id, user.username),
        at=now,
        payload={"window": window_code, "role": user.role},
    )
    return window_code


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={401: {}, 409: {}, 422: {}, 423: {}},
    summary="Log in; a clerk names the window",
)
async def login(body: LoginRequest, state: State, request: Request) -> LoginResponse:
    now = state.clock.now()
    source = source_of(request.client.host if request.client else None)
    user = await state.db.read(_find_user, body.username)
    if user is not None:
        until = user.locked_until if user.locked_until and user.locked_until > now else None
        until = until or await state.db.read(locked_until, user.id, source, now)
        if until is not None:
            raise account_locked(until)
    password_hash = user.password_hash if user is not None and user.active else None
    password = body.password.get_secret_value()
    ok = await anyio.to_thread.run_sync(state.passwords.verify, password_hash, password)
    if not ok or user is None:
        if user is not None:
            settings = state.settings
            until = await state.write(
                record_failure,
                user.id,
                source,
                now,
                settings.lockout_threshold,
                timedelta(minutes=settings.lockout_minutes),
            )
            if until is not None:
                raise account_locked(until)
        raise InvalidCredentials("The user name or password is wrong.")
    token = new_token()
    expires = now + timedelta(minutes=state.settings.token_ttl_minutes)
    # a clerk's login takes the window's row (see `backend.db.window_locks`)
    open_session = (
        _open_session
        if not body.window
        else LocksWindow(_open_session, (user.hall_id, body.window))
    )
    window = await state.write(
        open_session, user, body.window, token_digest(token), now, expires, source
    )
    me = Me(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        hall=user.hall_code,
        hall_name=user.hall_name,
        window=window,
        timezone=await state.db.read(hall_timezone, user.hall_id),
    )
    return LoginResponse(token=token, expires_at=expires, me=me)


def _logout(conn: Connection, principal: Principal, now: datetime) -> None:
    revoke_session(conn, principal.token_hash, now)
    append_event(
        conn,
        hall_id=principal.hall_id,
        type="user.logged_out",
        subject_type="user",
        subject_id=principal.username,
        actor=principal.actor,
        at=now,
        payload={},
    )


@router.post("/auth/logout", status_code=204, responses={401: {}}, summary="End this session")
async def logout(principal: AnyUser, state: State) -> Response:
    at_window = principal.window_id
    logout = _logout if at_window is None else LocksWindow(_logout, at_window)
    await state.write(logout, principal, state.clock.now())
    state.principals.evict(principal.token_hash)
    return Response(status_code=204)


def _me(conn: Connection, principal: Principal) -> Me:
    hall = conn.execute(select(halls).where(halls.c.id == principal.hall_id)).one()
    window = None
    if principal.window_id is not None:
        window = conn.execute(
            select(windows.c.code).where(windows.c.id == principal.window_id)
        ).scalar()
    return Me(
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role,
        hall=hall.code,
        hall_name=hall.name,
        window=window,
        timezone=hall_timezone(conn, principal.hall_id),
    )


@router.get("/me", response_model=Me, responses={401: {}}, summary="Who the token belongs to")
async def me(principal: AnyUser, state: State) -> Me:
    return await state.db.read(_me, principal)
