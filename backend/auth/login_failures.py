"""Provides the login lockout per account and source address, with a lockout that doubles.

Five wrong passwords in a row for one account from one source address (the client's address as
the server sees it, behind a trusted proxy the forwarded one) lock that account for that
source: 15 minutes, then 30, 60 … (at most a day) while the same source keeps failing. The
account's other sources, the clerk's own desk among them, still get in: knowing a user name is
no longer enough to lock a clerk out of the counter. A success from a source forgets its
failures. `users.locked_until` (a lock of the whole account) is still honoured.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.db.event_log import Actor, append_event
from backend.db.schema import login_failures, users

MAX_LOCKOUT = timedelta(days=1)
MAX_DOUBLINGS = 16
"""Lockouts double at most this often (15 min × 2**16 is far past a day): the factor must not
grow without bound, or the lockout's length overflows."""
SOURCE_LENGTH = 64


def source_of(host: str | None) -> str:
    return (host or "unknown")[:SOURCE_LENGTH]


def locked_until(conn: Connection, user_id: int, source: str, now: datetime) -> datetime | None:
    """Until when the account is locked for `source` (None: it is not)."""
    until = conn.execute(
        select(login_failures.c.locked_until).where(
            login_failures.c.user_id == user_id, login_failures.c.source == source
        )
    ).scalar()
    return until if until is not None and until > now else None


def record_failure(
    conn: Connection,
    user_id: int,
    source: str,
    now: datetime,
    threshold: int,
    lockout: timedelta,
) -> datetime | None:
    """Count a wrong password from `source`; the end of the lockout when it locks, or the
    lockout already in force (attempts that checked the lock before a parallel one set it)."""
    already = locked_until(conn, user_id, source, now)
    if already is not None:
        return already
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    row = conn.execute(
        dialect.insert(login_failures)
        .values(user_id=user_id, source=source, failures=1, lockouts=0)
        .on_conflict_do_update(
            index_elements=["user_id", "source"],
            set_={"failures": login_failures.c.failures + 1},
        )
        .returning(login_failures.c.failures, login_failures.c.lockouts)
    ).one()
    if row.failures < threshold:
        return None
    until = now + min(lockout * 2 ** min(row.lockouts, MAX_DOUBLINGS), MAX_LOCKOUT)
    conn.execute(
        update(login_failures)
        .where(login_failures.c.user_id == user_id, login_failures.c.source == source)
        .values(failures=0, lockouts=row.lockouts + 1, locked_until=until)
    )
    user = conn.execute(select(users).where(users.c.id == user_id)).one()
    append_event(
        conn,
        hall_id=user.hall_id,
        type="user.locked",
        subject_type="user",
        subject_id=user.username,
        actor=Actor(user.id, user.username),
        at=now,
        payload={
            "until": until.isoformat(),
            "failed_logins": row.failures,
            "lockouts": row.lockouts + 1,
            "scope": "source",
        },
    )
    return until


def forget_failures(conn: Connection, user_id: int, source: str) -> None:
    """A success from `source`: its failures and lockouts are forgotten."""
    conn.execute(
        delete(login_failures).where(
            login_failures.c.user_id == user_id, login_failures.c.source == source
        )
    )
