"""Provides the event log's write side: appending hash-chained events (verifying them:
`backend.events.chain`).

Each change appends its event in the same transaction as the change. Every row carries the hash
of the row before it, so altering, removing or inserting a row breaks the chain at that row. The
single `chain_head` row holds the last sequence number and hash; updating it inside the write
transaction serialises appends on every engine, which keeps sequence numbers gap-free and in
commit order (what a stream resuming from `Last-Event-ID` relies on). Events are collected during
the transaction and chained by `flush_events` just before the commit, so the head row is locked
only for that last moment, not for the whole transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from backend.db.prepared import Prepared, PreparedInsert
from backend.db.schema import chain_head, events, users

GENESIS_HASH = "0" * 64

_HEAD_FOR_UPDATE = Prepared(
    select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1).with_for_update()
)
_EVENT_INSERT = PreparedInsert(events)
NOTIFY_CHANNEL = "workbench_events"
_NOTIFY = Prepared(select(func.pg_notify(NOTIFY_CHANNEL, bindparam("seq"))))
_HEAD_UPDATE = Prepared(
    update(chain_head)
    .where(chain_head.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a user, or the system itself."""

    user_id: int | None
    username: str | None


SYSTEM = Actor(None, "system")


def _canonical(row: dict[str, Any]) -> bytes:
    fields = {
        "seq": row["seq"],
        "hall_id": row["hall_id"],
        "type": row["type"],
        "subject_type": row["subject_type"],
        "subject_id": row["subject_id"],
        "actor_id": row["actor_id"],
        "actor": row["actor"],
        "at": iso_text(row["at"]),
        "payload": row["payload"],
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def iso_text(value: datetime | str) -> str:
    if isinstance(value, str):  # already canonical (a row read back from an audit export)
        return value
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(row)).hexdigest()


def ensure_chain_head(conn: Connection) -> None:
    if conn.execute(select(chain_head.c.id)).first() is None:
        conn.execute(insert(chain_head).values(id=1, seq=0, hash=GENESIS_HASH))


PENDING = "pending_events"


def begin_events(conn: Connection) -> None:
    """Start collecting this transaction's events (`Database` calls it at BEGIN)."""
    conn.info[PENDING] = []


def pending_events(conn: Connection) -> list[dict[str, Any]]:
    pending: list[dict[str, Any]] | None = conn.info.get(PENDING)
    if pending is None:
        raise RuntimeError("append_event outside a transaction started by Database.write")
    return pending


def append_event(
    conn: Connection,
    *,
    hall_id: int | None,
    type: str,
    subject_type: str,
    subject_id: object,
    actor: Actor,
    at: datetime,
    payload: dict[str, Any],
) -> None:
    """Add one event to the caller's transaction; `flush_events` chains and writes it just
    before the commit, so the chain's head row is locked only for that moment."""
    pending_events(conn).append(
        {
            "hall_id": hall_id,
            "type": type,
            "subject_type": subject_type,
            "subject_id": str(subject_id),
            "actor_id": actor.user_id,
            "actor": actor.username,
            "at": at,
            "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str),
        }
    )


def flush_events(conn: Connection) -> None:
    """Give the transaction's events their sequence numbers and hashes, and write them."""
    pending = conn.info.pop(PENDING, None)
    if not pending:
        return
    head = _HEAD_FOR_UPDATE.first(conn, {})
    seq, prev_hash = head.seq, head.hash
    rows = []
    for event in pending:
        seq += 1
        row = {**event, "seq": seq}
        digest = row_hash(prev_hash, row)
        rows.append({**row, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    _EVENT_INSERT.insert_all(conn, rows)
    _HEAD_UPDATE.execute(conn, {"new_seq": seq, "new_hash": prev_hash}).close()
    if conn.dialect.name == "postgresql":
        # Delivered at commit to every instance's listener; it only wakes streams (the rows
        # stay the truth), so the payload is just the sequence number.
        _NOTIFY.execute(conn, {"seq": str(seq)}).close()


def username_of(conn: Connection, user_id: int) -> str | None:
    return conn.execute(select(users.c.username).where(users.c.id == user_id)).scalar()
