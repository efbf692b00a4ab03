"""Provides `backup` and `restore` for the SQLite deployment: an online, consistent copy made with
SQLite's backup API while the server keeps serving, and a restore that checks the copy (integrity
and the event log's hash chain) before it replaces the database.

In WAL mode the backup reads one snapshot (readers never block the server's writers), so the copy
is what the database held at one instant. The copy is written beside the target and renamed into
place, so a crash never leaves half a backup. PostgreSQL deployments use `pg_dump` instead.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from backend.db.engine import Database
from backend.events.chain import ChainReport, verify_chain


class BackupError(Exception):
    """The database is not a SQLite file, or a copy failed its checks."""


@dataclass(frozen=True)
class BackupReport:
    """What was copied, and the copy's own check."""

    path: Path
    bytes: int
    chain: ChainReport


def sqlite_path(database_url: str) -> Path:
    """The file behind a `sqlite:///...` URL; anything else is refused."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "backup and restore work on a SQLite file; back up PostgreSQL with pg_dump"
        )
    return Path(url.database)


def check_file(path: Path) -> ChainReport:
    """`PRAGMA integrity_check` and the hash chain of a SQLite file; raises if either fails."""
    with sqlite3.connect(path) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchone()
    conn.close()
    if not result or result[0] != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {result}")
    db = Database(f"sqlite:///{path}", executor="inline")
    try:
        report = db.run_read(verify_chain)
    finally:
        db.close()
    if not report.intact:
        raise BackupError(
            f"{path}: the event log's chain is broken at seq {report.first_bad_seq} "
            f"({report.reason})"
        )
    return report


def _copy(source: Path, target: Path) -> None:
    """Copy `source` into a temporary file beside `target` with the backup API, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        with dst:
            # one step: a single read snapshot of the source, however busy the server is
            src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)


def backup(database_url: str, target: Path) -> BackupReport:
    """Copy the live database to `target` (online) and verify the copy."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    _copy(source, target)
    chain = check_file(target)
    return BackupReport(target, target.stat().st_size, chain)


def restore(backup_file: Path, database_url: str) -> BackupReport:
    """Check `backup_file`, then replace the database with it (stop the server first).

    The current database is kept beside it as `NAME.before-restore` until the next restore."""
    if not backup_file.exists():
        raise BackupError(f"there is no backup at {backup_file}")
    chain = check_file(backup_file)
    target = sqlite_path(database_url)
    if target.exists():
        _copy(target, target.with_name(target.name + ".before-restore"))
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    _copy(backup_file, target)
    with sqlite3.connect(target) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return BackupReport(target, target.stat().st_size, chain)
