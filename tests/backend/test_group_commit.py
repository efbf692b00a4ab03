"""Group commit: writes waiting at the same moment share one transaction, each in its own
savepoint. A refused or failed write must leave nothing behind, not even its event, and must not
take the others down with it; a retried request in such a batch still gets its stored answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Connection, func, insert, select

from backend.db.engine import Database
from backend.db.event_log import SYSTEM, append_event
from backend.db.schema import chain_head, events
from backend.events.chain import verify_chain
from backend.problems import Conflict
from backend.server.app import prepare_database
from tests.conftest import Backend, key, new_database_url


def _write(outcome: str, n: int) -> object:
    def write(conn: Connection) -> int:
        append_event(
            conn,
            hall_id=None,
            type="test.write",
            subject_type="test",
            subject_id=n,
            actor=SYSTEM,
            at=datetime.now(UTC),
            payload={"n": n},
        )
        if outcome == "refused":
            raise Conflict(f"write {n} refused")
        if outcome == "failed":  # a database error: the transaction is aborted until undone
            conn.execute(insert(chain_head).values(id=1, seq=0, hash="x"))
        return n

    return write


async def test_refused_and_failed_writes_in_a_batch_leave_nothing_and_spare_the_others(
    tmp_path: Path,
) -> None:
    db = Database(new_database_url(tmp_path), executor="threads")
    try:
        prepare_database(db)
        outcomes = ["ok", "refused", "ok", "failed"] * 40
        results = await asyncio.gather(
            *(db.write(_write(outcome, n)) for n, outcome in enumerate(outcomes)),
            return_exceptions=True,
        )

        def logged(conn: Connection) -> list[str]:
            rows = conn.execute(select(events.c.subject_id).order_by(events.c.seq))
            return [row.subject_id for row in rows]

        kept = [n for n, outcome in enumerate(outcomes) if outcome == "ok"]
        assert [r for r in results if isinstance(r, int)] == kept
        assert sum(isinstance(r, Conflict) for r in results) == outcomes.count("refused")
        assert sorted(int(s) for s in db.run_read(logged)) == kept
        assert db.run_read(verify_chain).intact

        def heads(conn: Connection) -> int | None:
            return conn.execute(select(func.count()).select_from(chain_head)).scalar()

        assert db.run_read(heads) == 1
    finally:
        db.close()


async def test_retries_sent_together_are_answered_from_the_stored_responses(
    fresh_backend: Backend, terminal: httpx.AsyncClient
) -> None:
    clerks = 20
    clerk = await fresh_backend.login("clerk04", "W04")
    for _ in range(clerks):
        response = await terminal.post(
            "/api/v1/tickets", json={"service_item": "MZ-001"}, headers=key()
        )
        assert response.status_code == 201
    keys = [key() for _ in range(clerks)]
    first = await asyncio.gather(
        *(clerk.post("/api/v1/windows/W04/call-next", headers=headers) for headers in keys)
    )
    again = await asyncio.gather(
        *(clerk.post("/api/v1/windows/W04/call-next", headers=headers) for headers in keys)
    )
    assert [r.status_code for r in first] == [200] * clerks
    assert len({r.json()["id"] for r in first}) == clerks, "each call took its own ticket"
    assert [r.json() for r in again] == [r.json() for r in first]
    assert all(r.headers.get("Idempotency-Replayed") == "true" for r in again)
    await clerk.aclose()
