"""Another program holding the SQLite file's write lock (a backup tool, a careless sqlite3
shell): writes are refused with a clear 503 and Retry-After, nothing half-done, and they
succeed again as soon as the lock is released."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import Backend, key

pytestmark = pytest.mark.sqlite_only


async def test_a_foreign_write_lock_is_a_503_then_writes_resume(fresh_backend: Backend) -> None:
    terminal = await fresh_backend.login("terminal01")
    clerk = await fresh_backend.login("clerk04", "W04")
    issued = await terminal.post("/api/v1/tickets", json={"service_item": "MZ-001"}, headers=key())
    assert issued.status_code == 201, issued.text

    path = make_url(fresh_backend.server.settings.database_url).database
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        refused = await clerk.post("/api/v1/windows/W04/call-next", headers=key())
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"] == "1"
        assert "busy" in refused.json()["detail"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    called = await clerk.post("/api/v1/windows/W04/call-next", headers=key())
    assert called.status_code == 200, called.text
    assert called.json()["number"] == issued.json()["number"]
