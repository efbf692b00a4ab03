"""`workbench backup` / `restore` on the SQLite deployment: an online copy taken while clerks keep
writing is consistent (integrity check and hash chain), restores into a working backend, and a
damaged backup is refused before it replaces anything."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from backend.runtime.settings import BackendSettings
from backend.server.backup import BackupError, backup, check_file, restore, sqlite_path
from backend.server.embedded import EmbeddedServer
from tests.conftest import FAST_HASH, Backend, key
from workbench.cli import main

pytestmark = pytest.mark.sqlite_only


async def _issue_until(backend: Backend, stop: asyncio.Event) -> int:
    terminal = await backend.login("terminal01")
    issued = 0
    try:
        while not stop.is_set():
            body = {"service_item": "MZ-001"}
            response = await terminal.post("/api/v1/tickets", json=body, headers=key())
            assert response.status_code == 201, response.text
            issued += 1
    finally:
        await terminal.aclose()
    return issued


async def test_online_backup_while_writing_then_restore(
    fresh_backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_backend.settings.database_url
    stop = asyncio.Event()
    writers = [asyncio.create_task(_issue_until(fresh_backend, stop)) for _ in range(4)]
    await asyncio.sleep(0.3)
    copies = []
    for n in range(3):  # several copies, each mid-write
        target = tmp_path / f"backup-{n}.db"
        code = await asyncio.to_thread(main, ["backup", "--database", url, str(target)])
        assert code == 0
        copies.append(target)
        await asyncio.sleep(0.1)
    stop.set()
    issued = sum(await asyncio.gather(*writers))
    assert issued > 20
    out = capsys.readouterr().out
    assert out.count("Backed up to") == 3
    rows = [check_file(c).rows for c in copies]
    assert rows == sorted(rows) and rows[0] > 0  # each later copy holds at least as much

    restored = f"sqlite:///{tmp_path / 'restored' / 'hall.db'}"
    assert main(["restore", "--database", restored, str(copies[-1])]) == 0
    assert main(["verify-chain", "--database", restored]) == 0
    settings = BackendSettings(database_url=restored, **FAST_HASH)
    with EmbeddedServer(settings) as server:
        again = Backend(server)
        supervisor = await again.login("super01")
        listed = await supervisor.get("/api/v1/tickets", params={"limit": 200})
        assert listed.status_code == 200
        terminal = await again.login("terminal01")
        more = await terminal.post(
            "/api/v1/tickets", json={"service_item": "MZ-001"}, headers=key()
        )
        assert more.status_code == 201
        await supervisor.aclose()
        await terminal.aclose()
    report = check_file(sqlite_path(restored))
    assert report.rows > rows[-1]  # the restored hall kept writing, chain intact


async def test_a_damaged_backup_is_refused(fresh_backend: Backend, tmp_path: Path) -> None:
    url = fresh_backend.settings.database_url
    copy = tmp_path / "copy.db"
    backup(url, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE events SET actor = 'intruder' WHERE seq = 1")
    conn.close()
    target = tmp_path / "target" / "hall.db"
    with pytest.raises(BackupError, match="seq 1"):
        restore(copy, f"sqlite:///{target}")
    assert not target.exists()
    assert main(["restore", "--database", f"sqlite:///{target}", str(copy)]) == 1


def test_postgresql_urls_are_refused() -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        sqlite_path("postgresql+psycopg://localhost/hall")
