"""Provides the PostgreSQL LISTEN loop of an instance: it wakes the event streams when another
instance commits events (NOTIFY carries only a sequence number; streams read the rows), and
forgets a session's cached principal when any instance logs it out (the token's digest)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy.engine import make_url

from backend.auth.sessions import SESSIONS_CHANNEL
from backend.db.event_log import NOTIFY_CHANNEL
from backend.events.notifier import EventNotifier
from backend.runtime.state import PrincipalCache

log = logging.getLogger(__name__)


def libpq_dsn(sqlalchemy_url: str) -> str:
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def listen_for_events(
    database_url: str, notifier: EventNotifier, principals: PrincipalCache
) -> None:
    """Wake `notifier` on every event NOTIFY and evict logged-out sessions from `principals`;
    reconnect with backoff if the connection drops.

    Streams also poll the table every `sse_poll_seconds`, so a missed notification delays an
    event by at most that long and never loses it; missed logouts are covered by forgetting
    every cached principal on (re)connecting."""
    dsn = libpq_dsn(database_url)
    delay = 0.5
    while True:
        try:
            connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
            async with connection:
                await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                await connection.execute(f"LISTEN {SESSIONS_CHANNEL}")
                delay = 0.5
                notifier.notify()  # we may have missed some while (re)connecting
                principals.clear()
                async for notification in connection.notifies():
                    if notification.channel == SESSIONS_CHANNEL:
                        principals.evict(notification.payload)
                    else:
                        notifier.notify()
        except asyncio.CancelledError:
            raise
        except psycopg.Error as exc:
            log.warning("event listener lost its connection (%s); retrying", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


@contextlib.asynccontextmanager
async def event_listener(
    database_url: str, notifier: EventNotifier, principals: PrincipalCache
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(
        listen_for_events(database_url, notifier, principals), name="pg-listen"
    )
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
