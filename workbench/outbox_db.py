"""Provides `OutboxDB`: the outbox's SQLite file (stdlib sqlite3, WAL).

Each change the clerk makes is a row here before it goes to the server, with its idempotency
key, the version it was based on and an ordering key. Rows are `pending` until the server
answers, then `sent` (kept for a while as history) or `conflict` (kept until the clerk settles
it). Every method is one short transaction; the class is safe to call from worker threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from api_client.errors import ApiError, error_from_problem
from api_client.models import Problem
from api_client.mutations import Mutation

__all__ = ["EntryState", "OutboxCounts", "OutboxDB", "OutboxEntry"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    owner TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    base_version INTEGER,
    ordering_key TEXT,
    label TEXT NOT NULL DEFAULT '',
    not_before REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    problem TEXT,
    response_status INTEGER,
    response TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, id);
CREATE INDEX IF NOT EXISTS outbox_ordering ON outbox (ordering_key, id);
"""

COLUMNS = (
    "id, created_at, owner, method, path, body, idempotency_key, base_version, ordering_key, "
    "label, not_before, attempts, next_attempt_at, state, last_error, problem, "
    "response_status, response, finished_at"
)


class EntryState(StrEnum):
    PENDING = "pending"
    CONFLICT = "conflict"
    SENT = "sent"


@dataclass(frozen=True)
class OutboxEntry:
    """One change on its way to the server."""

    id: int
    created_at: float
    owner: str | None
    method: str
    path: str
    body: str | None
    idempotency_key: str
    base_version: int | None
    ordering_key: str | None
    label: str
    not_before: float
    attempts: int
    next_attempt_at: float
    state: EntryState
    last_error: str | None
    problem: dict[str, Any] | None
    response_status: int | None
    response: Any
    finished_at: float | None

    @property
    def mutation(self) -> Mutation:
        return Mutation(
            self.method, self.path, self.body, self.base_version, self.ordering_key, self.label
        )

    @property
    def error(self) -> ApiError | None:
        """The server's refusal as a typed error (for conflicts)."""
        if self.problem is None:
            return None
        return error_from_problem(Problem.model_validate(self.problem))

    @property
    def current(self) -> dict[str, Any] | None:
        """The server's current state of the resource, when the refusal carried one."""
        return None if self.problem is None else self.problem.get("current")


@dataclass(frozen=True)
class OutboxCounts:
    pending: int = 0
    held: int = 0
    conflicts: int = 0
    sent: int = 0


def _entry(row: sqlite3.Row) -> OutboxEntry:
    data = dict(row)
    data["state"] = EntryState(data["state"])
    data["problem"] = json.loads(data["problem"]) if data["problem"] else None
    data["response"] = json.loads(data["response"]) if data["response"] else None
    return OutboxEntry(**data)


class OutboxDB:
    """The outbox table in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction; `durable` ones are fsynced before they return.

        New changes are durable (they exist nowhere else). Bookkeeping after the server's
        answer need not be: if a power cut loses it, the change is resent with the same key
        and the server replays its stored answer.
        """
        with self._lock:
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, params))

    # -- writing -------------------------------------------------------------------------

    def add(
        self, mutation: Mutation, *, key: str, owner: str | None, now: float, not_before: float
    ) -> OutboxEntry:
        with self._tx(durable=True) as conn:
            cursor = conn.execute(
                "INSERT INTO outbox (created_at, owner, method, path, body, idempotency_key,"
                " base_version, ordering_key, label, not_before)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    owner,
                    mutation.method,
                    mutation.path,
                    mutation.body,
                    key,
                    mutation.base_version,
                    mutation.ordering_key,
                    mutation.label,
                    not_before,
                ),
            )
            row = conn.execute(
                f"SELECT {COLUMNS} FROM outbox WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return _entry(row)

    def undo(self, entry_id: int, now: float) -> bool:
        """Delete a held entry whose undo window is still open."""
        with self._tx(durable=True) as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE id = ? AND state = 'pending' AND not_before > ?",
                (entry_id, now),
            )
        return cursor.rowcount == 1

    def release(self, entry_id: int, now: float) -> bool:
        """End an entry's undo window now (send it without waiting)."""
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET not_before = ? WHERE id = ? AND state = 'pending'"
                " AND not_before > ?",
                (now, entry_id, now),
            )
        return cursor.rowcount == 1

    def mark_sent(self, entry_id: int, status: int, body: Any, now: float) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, response_status = ?,"
                " response = ?, finished_at = ?, last_error = NULL WHERE id = ?",
                (status, None if body is None else json.dumps(body), now, entry_id),
            )

    def mark_retry(self, entry_id: int, error: str, next_attempt_at: float) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
                " WHERE id = ?",
                (error, next_attempt_at, entry_id),
            )

    def mark_conflict(self, entry_id: int, problem: dict[str, Any], now: float) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'conflict', attempts = attempts + 1, problem = ?,"
                " last_error = ?,"
                " response_status = ?, finished_at = ? WHERE id = ?",
                (
                    json.dumps(problem),
                    problem.get("detail") or problem.get("title"),
                    problem.get("status"),
                    now,
                    entry_id,
                ),
            )

    def discard(self, entry_id: int) -> bool:
        with self._tx(durable=True) as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE id = ? AND state = 'conflict'", (entry_id,)
            )
        return cursor.rowcount == 1

    def requeue(self, entry_id: int, *, key: str, base_version: int | None, now: float) -> bool:
        """Send a conflict again (in its old place) with a new key and base version."""
        with self._tx(durable=True) as conn:
            cursor = conn.execute(
                "UPDATE outbox SET state = 'pending', idempotency_key = ?, base_version = ?,"
                " attempts = 0, next_attempt_at = 0, not_before = ?, problem = NULL,"
                " last_error = NULL, response_status = NULL, finished_at = NULL"
                " WHERE id = ? AND state = 'conflict'",
                (key, base_version, now, entry_id),
            )
        return cursor.rowcount == 1

    def prune_sent(self, before: float, keep: int) -> int:
        """Forget sent entries finished before `before`, keeping the newest `keep` anyway."""
        with self._tx() as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE state = 'sent' AND finished_at < ? AND id NOT IN"
                " (SELECT id FROM outbox WHERE state = 'sent' ORDER BY id DESC LIMIT ?)",
                (before, keep),
            )
        return cursor.rowcount

    # -- reading -------------------------------------------------------------------------

    def get(self, entry_id: int) -> OutboxEntry | None:
        rows = self._query(f"SELECT {COLUMNS} FROM outbox WHERE id = ?", (entry_id,))
        return _entry(rows[0]) if rows else None

    def entries(self, state: EntryState | None = None, limit: int = 1000) -> list[OutboxEntry]:
        if state is None:
            rows = self._query(f"SELECT {COLUMNS} FROM outbox ORDER BY id LIMIT ?", (limit,))
        else:
            rows = self._query(
                f"SELECT {COLUMNS} FROM outbox WHERE state = ? ORDER BY id LIMIT ?",
                (state.value, limit),
            )
        return [_entry(row) for row in rows]

    _HEAD = (
        "o.state = 'pending' AND o.owner IS ? AND NOT EXISTS (SELECT 1 FROM outbox AS e"
        " WHERE e.ordering_key = o.ordering_key AND e.id < o.id"
        " AND e.state IN ('pending', 'conflict'))"
    )

    def due_heads(self, owner: str | None, now: float, limit: int) -> list[OutboxEntry]:
        """Pending entries due by `now` with nothing unsettled ahead under their ordering key."""
        rows = self._query(
            f"SELECT {COLUMNS} FROM outbox AS o WHERE {self._HEAD}"
            " AND MAX(o.not_before, o.next_attempt_at) <= ? ORDER BY o.id LIMIT ?",
            (owner, now, limit),
        )
        return [_entry(row) for row in rows]

    def counts(self, now: float) -> OutboxCounts:
        rows = self._query(
            "SELECT state, COUNT(*), COALESCE(SUM(not_before > ?), 0) FROM outbox GROUP BY state",
            (now,),
        )
        found = {row[0]: (int(row[1]), int(row[2])) for row in rows}
        pending, held = found.get("pending", (0, 0))
        return OutboxCounts(
            pending=pending,
            held=held,
            conflicts=found.get("conflict", (0, 0))[0],
            sent=found.get("sent", (0, 0))[0],
        )

    def next_due(self, owner: str | None) -> float | None:
        """The earliest time an entry of `owner` that heads its ordering key may be sent."""
        rows = self._query(
            f"SELECT MIN(MAX(o.not_before, o.next_attempt_at)) FROM outbox AS o WHERE {self._HEAD}",
            (owner,),
        )
        value = rows[0][0] if rows else None
        return float(value) if value is not None else None
