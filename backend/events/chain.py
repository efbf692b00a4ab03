"""Provides verifying the event log's hash chain: walking the rows in sequence order and naming
the first whose hash, link or sequence number does not hold."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from backend.db.event_log import GENESIS_HASH, row_hash
from backend.db.schema import chain_head, events


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain: how many rows, and the first broken one if any."""

    rows: int
    first_bad_seq: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def iter_event_rows(conn: Connection, batch: int = 5000) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        rows = conn.execute(
            select(events).where(events.c.seq > last).order_by(events.c.seq).limit(batch)
        ).mappings()
        chunk = [dict(r) for r in rows]
        if not chunk:
            return
        yield from chunk
        last = chunk[-1]["seq"]


def verify_rows(rows: Iterator[dict[str, Any]], head_hash: str | None = None) -> ChainReport:
    """Walk rows in sequence order; name the first whose hash or link does not hold."""
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    for row in rows:
        count += 1
        if row["seq"] != expected_seq:
            return ChainReport(count, int(row["seq"]), f"sequence gap: expected {expected_seq}")
        if row["prev_hash"] != prev_hash:
            return ChainReport(count, int(row["seq"]), "link to the previous row is broken")
        if row_hash(prev_hash, row) != row["hash"]:
            return ChainReport(count, int(row["seq"]), "row content does not match its hash")
        prev_hash, expected_seq = row["hash"], expected_seq + 1
    if head_hash is not None and head_hash != prev_hash:
        return ChainReport(count, expected_seq, "rows at the end of the log are missing")
    return ChainReport(count, None, None)


def verify_chain(conn: Connection) -> ChainReport:
    head = conn.execute(select(chain_head.c.hash).where(chain_head.c.id == 1)).scalar()
    return verify_rows(iter_event_rows(conn), head)
