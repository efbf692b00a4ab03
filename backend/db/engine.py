"""Provides `Database`: the engine plus the executors that run blocking SQL off the event loop.

Every query is a plain function taking a SQLAlchemy `Connection`. `Database.read` runs it in a
read transaction; `Database.write` runs it inside one write transaction (`BEGIN IMMEDIATE` on
SQLite). The executor decides where:
- "inline" (the default on SQLite): on the caller's thread. SQLite statements take tens of
  microseconds and writers are serialised anyway; a thread hop costs more than the query.
- "threads" (the default elsewhere): reads on a reader pool, writes on a writer pool (one thread
  on SQLite, so writers queue in memory instead of spinning on SQLite's busy lock; many on
  PostgreSQL, whose row locks order them).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, CursorResult, make_url
from sqlalchemy.exc import OperationalError

T = TypeVar("T")
P = ParamSpec("P")


class StorageFull(Exception):
    """The database refused a write because its disk is full."""


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite set up for WAL and explicit transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=False)
        _configure_sqlite(engine)
        return engine
    # writer threads (16) + reader threads: every thread may hold a connection at once
    return create_engine(url, pool_size=24, max_overflow=16, pool_pre_ping=True)


class Database:
    """The engine and the thread pools that keep blocking SQL off the event loop."""

    def __init__(self, url: str, *, read_threads: int = 4, executor: str = "auto") -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # On SQLite a query takes tens of microseconds and writers are serialised anyway, so
        # running it on the event loop beats a thread hop (and the GIL hand-off it costs).
        self.inline = executor == "inline" or (executor == "auto" and self.is_sqlite)
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="db-read")
        writer_threads = 1 if self.is_sqlite else 16
        self._writers = ThreadPoolExecutor(writer_threads, thread_name_prefix="db-write")

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)` in a read transaction on the reader pool."""
        if self.inline:
            return self._run_read(fn, args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn, args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)` in one write transaction; commit unless it raises."""
        if self.inline:
            return self._run_write(fn, args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writers, self._run_write, fn, args)

    def run_read(self, fn: Callable[..., T], *args: Any) -> T:
        """Synchronous `read`, for commands and tests outside an event loop."""
        return self._run_read(fn, args)

    def run_write(self, fn: Callable[..., T], *args: Any) -> T:
        """Synchronous `write`, for commands outside an event loop."""
        return self._run_write(fn, args)

    def _run_read(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn, *args)

    def _run_write(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            with self.engine.connect() as conn:
                conn.execution_options(sqlite_immediate=True)
                with conn.begin():
                    return fn(conn, *args)
        except OperationalError as exc:
            if "disk" in str(exc.orig).lower() and "full" in str(exc.orig).lower():
                raise StorageFull(str(exc.orig)) from exc
            raise

    def close(self) -> None:
        self._readers.shutdown(wait=True)
        self._writers.shutdown(wait=True)
        self.engine.dispose()


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])
