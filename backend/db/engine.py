"""Provides `Database`: the engine plus the executors that run blocking SQL off the event loop.

Every query is a plain function taking a SQLAlchemy `Connection`. `Database.read` runs it in a
read transaction; `Database.write` runs it inside a write transaction (`BEGIN IMMEDIATE` on
SQLite) that commits unless it raises. The executor decides where:
- "inline" (the default on SQLite): on the caller's thread. SQLite statements take tens of
  microseconds and writers are serialised anyway; a thread hop costs more than the query.
- "threads" (the default elsewhere): reads on a reader pool; writes on writer threads that
  each group the writes waiting at that moment into one transaction with one commit (group
  commit: one fsync for many changes). On PostgreSQL a batch first runs its writes in place;
  only if one of them is refused or fails is it rolled back and run again with a savepoint per
  write, so that the refused one alone is undone. A write function may therefore run twice:
  it must do nothing outside its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, CursorResult, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from backend.db.event_log import begin_events, flush_events, pending_events
from backend.problems import StorageUnavailable

T = TypeVar("T")
P = ParamSpec("P")

# conn.info key under which a batch preparer leaves what it read for the batch's writes
BATCH_PREPARED = "batch_prepared"
# conn.info key, true while a batch runs its writes in place (no savepoint between them): a
# write may then leave work to the batch's finishers (see `Database.batch_finishers`)
IN_PLACE_BATCH = "in_place_batch"
BatchPreparer = Callable[[Connection, list[Callable[..., Any]]], None]
BatchFinisher = Callable[[Connection], None]


# PostgreSQL's "the transaction was undone for another's sake, run it again": a deadlock
# (40P01) or a serialization failure (40001)
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether `exc` is a deadlock or serialization failure: nothing of the write was applied
    and running it again may well succeed."""
    return (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


def _storage_problem(exc: DBAPIError) -> Exception:
    """A clear 503 for the storage troubles a client can wait out; anything else unchanged."""
    if is_transient_conflict(exc):
        return StorageUnavailable(
            "The database gave way to concurrent changes and did not save this one; "
            "try again in a moment.",
            headers={"Retry-After": "1"},
        )
    message = str(exc.orig).lower()
    if "disk" in message and "full" in message:
        return StorageUnavailable(
            "The database's disk is full; the change was not saved. Try again later.",
            headers={"Retry-After": "30"},
        )
    if "locked" in message or "busy" in message:
        return StorageUnavailable(
            "The database is busy (another program holds its lock); try again in a moment.",
            headers={"Retry-After": "1"},
        )
    return exc


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        # straight on the driver: this runs for every transaction
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        dbapi_connection: Any = connection.connection.dbapi_connection
        try:
            dbapi_connection.execute(statement)
        except sqlite3.Error as exc:  # wrapped as SQLAlchemy would (busy: a clean 503)
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def make_engine(url: str, *, busy_timeout_ms: int = 10_000) -> Engine:
    """An engine for `url`, with SQLite set up for WAL and explicit transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, pool_size=8, max_overflow=8, pool_pre_ping=False, hide_parameters=True
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # writer threads + reader threads (+ listeners): every thread may hold a connection at once
    # hide_parameters: a logged database error must not carry an applicant's ID number or name
    return create_engine(
        url, pool_size=24, max_overflow=16, pool_pre_ping=True, hide_parameters=True
    )


def connection_problem(url: str) -> str | None:
    """Why the backend cannot reach the database at `url` (None: it can), in the driver's own
    words on one line: for the commands, which say it instead of a traceback."""
    try:
        engine = make_engine(url)
    except OSError as exc:
        return f"{exc.strerror or exc}: {exc.filename}"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        return " ".join(str(exc.orig or exc).split())[:400]
    except OSError as exc:
        return str(exc)
    finally:
        engine.dispose()
    return None


@dataclass
class WriteRequest:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]  # settled on its own event loop (see `_settle_on_their_loops`)


Outcome = tuple[WriteRequest, Any, BaseException | None]


def _settle_on_their_loops(outcomes: list[Outcome]) -> None:
    """Hand a batch's results to the event loops that wait for them: one wake-up per loop for
    the whole batch, instead of a thread-safe future and a wake-up per write."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].future.get_loop(), []).append(outcome)
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: list[Outcome]) -> None:
    for request, result, error in outcomes:
        if request.future.done():  # the caller gave up waiting (cancelled)
            continue
        if error is None:
            request.future.set_result(result)
        else:
            request.future.set_exception(error)


def _run_undoably(conn: Connection, request: WriteRequest, undo: Callable[[], object]) -> Outcome:
    """Run one write of a batch; if it raises, `undo` its statements and drop its events."""
    events_before = len(pending_events(conn))
    try:
        result = request.fn(conn, *request.args)
    except Exception as exc:  # refused (or failed): undo this request only, events included
        undo()
        del pending_events(conn)[events_before:]
        return request, None, exc
    return request, result, None


def _run_in_savepoint(conn: Connection, request: WriteRequest) -> Outcome:
    savepoint = conn.begin_nested()
    outcome = _run_undoably(conn, request, savepoint.rollback)
    if outcome[2] is None:
        savepoint.commit()
    return outcome


class ChainedSavepoints:
    """PostgreSQL: one savepoint per write of a batch, set in the same round trip that releases
    the previous write's (`RELEASE SAVEPOINT w; SAVEPOINT w`), and the last left to the commit:
    one round trip a write instead of SQLAlchemy's two (SAVEPOINT and RELEASE)."""

    NAME = "wb_write"

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._set = False

    def run(self, request: WriteRequest) -> Outcome:
        self._send(
            f"RELEASE SAVEPOINT {self.NAME}; SAVEPOINT {self.NAME}"
            if self._set
            else f"SAVEPOINT {self.NAME}"
        )
        self._set = True
        return _run_undoably(
            self._conn, request, lambda: self._send(f"ROLLBACK TO SAVEPOINT {self.NAME}")
        )

    def _send(self, statement: str) -> None:
        # straight on the driver (no parameters: sent as one simple query)
        cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(statement)
        finally:
            cursor.close()


class GroupCommitWriter:
    """Writer threads that each take whatever writes are waiting and run them as one batch
    (group commit). SQLite gets one thread (one writer at a time anyway); PostgreSQL as many
    as `write_threads` says (one by default), whose batches overlap until each briefly locks
    the event chain's head to commit."""

    # In a batch run again with savepoints each write is a subtransaction; PostgreSQL tracks
    # 64 per transaction in shared memory, and past that every other session's snapshot has
    # to look them up on disk.
    MAX_BATCH = 48

    def __init__(
        self, run_batch: Callable[[list[WriteRequest]], list[Outcome]], threads: int
    ) -> None:
        self._run_batch = run_batch
        self._queue: queue.SimpleQueue[WriteRequest | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._loop, name=f"db-writer-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Queue a write; the future (of the calling thread's running loop) gets its result."""
        request = WriteRequest(fn, args, asyncio.get_running_loop().create_future())
        self._queue.put(request)
        return request.future

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.put(None)  # for the next thread
                return
            batch = [first]
            while len(batch) < self.MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            try:
                outcomes = self._run_batch(batch)
            except BaseException as exc:  # never let the writer thread die: answer everyone
                outcomes = [(request, None, exc) for request in batch]
            _settle_on_their_loops(outcomes)

    def close(self) -> None:
        self._queue.put(None)  # each thread passes it on before it stops
        for thread in self._threads:
            thread.join(timeout=30)


class Database:
    """The engine and the thread pools that keep blocking SQL off the event loop."""

    # how many times a write undone by a deadlock or a serialization failure is run in all
    WRITE_ATTEMPTS = 4

    def __init__(
        self, url: str, *, read_threads: int = 4, write_threads: int = 1, executor: str = "auto"
    ) -> None:
        self.url = url
        is_sqlite = make_url(url).get_backend_name() == "sqlite"
        # On SQLite a query takes tens of microseconds and writers are serialised anyway, so
        # running it on the event loop beats a thread hop (and the GIL hand-off it costs). The
        # loop must then never wait long for a lock another program holds (a backup, a seed):
        # after a short wait the request gets 503 and the client retries.
        self.inline = executor == "inline" or (executor == "auto" and is_sqlite)
        self.engine = make_engine(url, busy_timeout_ms=250 if self.inline else 10_000)
        self.is_sqlite = is_sqlite
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="db-read")
        self._writer = GroupCommitWriter(self._run_batch, threads=1 if is_sqlite else write_threads)
        # run at the start of a batch of several writes with their functions, to read in one
        # statement what each write would otherwise read alone (see `BATCH_PREPARED`)
        self.batch_preparers: list[BatchPreparer] = []
        # run after the writes of a batch and before its events, to write in one statement
        # what the writes of an in-place batch left to them (see `IN_PLACE_BATCH`)
        self.batch_finishers: list[BatchFinisher] = []
        # inline: one connection kept for the event loop's reads and writes (they run one at a
        # time there), which saves a pool check-out and check-in per request
        self._loop_connection: Connection | None = None

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)` in a read transaction on the reader pool."""
        return await self._read(fn, args, one_statement=False)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)` in one write transaction; commit unless it raises.

        A write the database undid for a deadlock or a serialization failure is run again, at
        most `WRITE_ATTEMPTS` times in all, then answered 503 with Retry-After (never 500)."""
        if self.inline:
            return self._on_loop_connection(self._write_on, fn, args)
        for attempt in range(1, self.WRITE_ATTEMPTS + 1):
            try:
                return await self._writer.submit(fn, args)
            except DBAPIError as exc:
                if not is_transient_conflict(exc):
                    raise
                if attempt == self.WRITE_ATTEMPTS:
                    raise _storage_problem(exc) from exc
            # a short random pause, growing, so that the two sides of a deadlock do not meet
            # again at once
            await asyncio.sleep(random.uniform(0.005, 0.02) * 2**attempt)
        raise AssertionError("unreachable")

    def _on_loop_connection(
        self,
        run: Callable[[Connection, Callable[..., T], tuple[Any, ...]], T],
        fn: Callable[..., T],
        args: tuple[Any, ...],
    ) -> T:
        if self._loop_connection is None:
            self._loop_connection = self.engine.connect()
        try:
            return run(self._loop_connection, fn, args)
        except OperationalError as exc:
            # a storage fault may leave the connection unusable: the next request opens anew
            self._loop_connection.close()
            self._loop_connection = None
            raise _storage_problem(exc) from exc

    def run_read(self, fn: Callable[..., T], *args: Any) -> T:
        """Synchronous `read`, for commands and tests outside an event loop."""
        return self._run_read(fn, args)

    def run_write(self, fn: Callable[..., T], *args: Any) -> T:
        """Synchronous `write`, for commands outside an event loop."""
        return self._run_write(fn, args)

    async def read_one_statement(self, fn: Callable[..., T], *args: Any) -> T:
        """`read` for a function that runs a single SELECT: on PostgreSQL without BEGIN and
        COMMIT around it (two round trips that give one statement nothing)."""
        return await self._read(fn, args, one_statement=True)

    async def _read(self, fn: Callable[..., T], args: tuple[Any, ...], one_statement: bool) -> T:
        if self.inline:
            return self._on_loop_connection(self._read_on, fn, args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn, args, one_statement)

    def _run_read(
        self, fn: Callable[..., T], args: tuple[Any, ...], one_statement: bool = False
    ) -> T:
        try:
            with self.engine.connect() as conn:
                if one_statement:
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                return self._read_on(conn, fn, args)
        except OperationalError as exc:
            raise _storage_problem(exc) from exc

    def _run_write(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            with self.engine.connect() as conn:
                return self._write_on(conn, fn, args)
        except OperationalError as exc:
            raise _storage_problem(exc) from exc

    @staticmethod
    def _read_on(conn: Connection, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn.execution_options(sqlite_immediate=False)
        with conn.begin():
            return fn(conn, *args)

    @staticmethod
    def _write_on(conn: Connection, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            begin_events(conn)
            result = fn(conn, *args)
            flush_events(conn)
            return result

    def _run_batch(self, batch: list[WriteRequest]) -> list[Outcome]:
        """Run several writes in one transaction and commit once.

        One commit (one fsync) for the whole batch is what lets many clerks write at once:
        the event chain's head row serialises commits, so without batching the throughput of
        the whole city would be one fsync per change."""
        try:
            with self.engine.connect() as conn:
                if len(batch) == 1:  # alone: its own transaction, no savepoint round trips
                    outcomes: list[Outcome] = [
                        (batch[0], self._write_on(conn, batch[0].fn, batch[0].args), None)
                    ]
                else:
                    in_place = None if self.is_sqlite else self._run_in_place(conn, batch)
                    outcomes = in_place or self._run_with_savepoints(conn, batch)
        except OperationalError as exc:
            # a deadlock stays itself: `write` runs each of the batch's writes again
            problem = exc if is_transient_conflict(exc) else _storage_problem(exc)
            return [(request, None, problem) for request in batch]
        except BaseException as exc:  # the commit itself failed: nothing was applied
            return [(request, None, exc) for request in batch]
        return outcomes

    def _run_in_place(self, conn: Connection, batch: list[WriteRequest]) -> list[Outcome] | None:
        """PostgreSQL: the batch's writes one after the other with nothing between them, the
        finishers, the events, one commit. None (and everything rolled back) as soon as a write
        or a finisher raises: the caller then runs the batch again with a savepoint per write,
        which sorts out whose fault it was. Writes are rarely refused, so most batches save a
        round trip and a subtransaction a write."""
        transaction = conn.begin()
        try:
            begin_events(conn)
            conn.info[IN_PLACE_BATCH] = True
            self._prepare(conn, batch)
            results = [request.fn(conn, *request.args) for request in batch]
            for finish in self.batch_finishers:
                finish(conn)
            flush_events(conn)
        except Exception:  # a refusal or a failure: all of it again, write by write
            transaction.rollback()
            return None
        finally:
            conn.info.pop(IN_PLACE_BATCH, None)
            conn.info.pop(BATCH_PREPARED, None)
        transaction.commit()
        return [(request, result, None) for request, result in zip(batch, results, strict=True)]

    def _run_with_savepoints(self, conn: Connection, batch: list[WriteRequest]) -> list[Outcome]:
        """The batch with each write in its own savepoint: a write that raises is undone alone
        (its statements and its events) and the others commit."""
        outcomes: list[Outcome] = []
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            begin_events(conn)
            self._prepare(conn, batch)
            chained = None if self.is_sqlite else ChainedSavepoints(conn)
            try:
                for request in batch:
                    outcomes.append(
                        _run_in_savepoint(conn, request)
                        if chained is None
                        else chained.run(request)
                    )
                for finish in self.batch_finishers:
                    finish(conn)
            finally:
                conn.info.pop(BATCH_PREPARED, None)
            flush_events(conn)
        return outcomes

    def _prepare(self, conn: Connection, batch: list[WriteRequest]) -> None:
        for prepare in self.batch_preparers:
            prepare(conn, [request.fn for request in batch])

    def close(self) -> None:
        if self._loop_connection is not None:
            self._loop_connection.close()
            self._loop_connection = None
        self._readers.shutdown(wait=True)
        self._writer.close()
        self.engine.dispose()


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])
