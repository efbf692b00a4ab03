"""Provides the PostgreSQL LISTEN loop that wakes this instance's event streams when another
instance commits events (NOTIFY carries only a sequence number; streams read the rows)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy.engine import make_url

from backend.event_log import NOTIFY_CHANNEL
from backend.state import EventNotifier

log = logging.getLogger(__name__)


def libpq_dsn(sqlalchemy_url: str) -> str:
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def listen_for_events(database_url: str, notifier: EventNotifier) -> None:
    """Wake `notifier` on every NOTIFY; reconnect with backoff if the connection drops.

    Streams also poll the table every `sse_poll_seconds`, so a missed notification delays an
    event by at most that long and never loses it."""
    dsn = libpq_dsn(database_url)
    delay = 0.5
    while True:
        try:
            connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
            async with connection:
                await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                delay = 0.5
                notifier.notify()  # we may have missed some while (re)connecting
                async for _ in connection.notifies():
                    notifier.notify()
        except asyncio.CancelledError:
            raise
        except psycopg.Error as exc:
            log.warning("event listener lost its connection (%s); retrying", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


@contextlib.asynccontextmanager
async def event_listener(
    database_url: str, notifier: EventNotifier
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(listen_for_events(database_url, notifier), name="pg-listen")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
