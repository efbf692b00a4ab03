"""A full disk under the SQLite file: the backend refuses writes with 503 problem+json
(`storage-unavailable`) while reads keep working, writes work again once space returns, and the
event log is intact afterwards. The file lives on a small tmpfs mounted for the test (root only;
the test is skipped where mounting is not allowed)."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.db.engine import Database
from backend.events.chain import verify_chain
from backend.server.embedded import EmbeddedServer
from tests.conftest import Backend, key, seeded_settings
from tests.problems import PROBLEMS

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a filler file until the disk is full; return it."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with contextlib.suppress(OSError), filler.open("ab") as handle:  # the last few bytes
        while True:
            handle.write(b"\0" * 512)
            handle.flush()
    return filler


def assert_storage_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEMS + "storage-unavailable"
    assert "Retry-After" in response.headers


async def test_full_disk_refuses_writes_cleanly_and_recovers(small_disk: Path) -> None:
    settings = seeded_settings(small_disk)
    with EmbeddedServer(settings) as server:
        backend = Backend(server)
        terminal = await backend.login("terminal01")
        supervisor = await backend.login("super01")
        issue = {"service_item": "MZ-001"}
        before = await terminal.post("/api/v1/tickets", json=issue, headers=key())
        assert before.status_code == 201
        filler = fill(small_disk)
        outcomes = []
        for _ in range(200):  # the WAL may have room left for a few writes
            response = await terminal.post("/api/v1/tickets", json=issue, headers=key())
            outcomes.append(response.status_code)
            if response.status_code != 201:
                break
        assert outcomes[-1] == 503, outcomes
        for _ in range(5):
            assert_storage_problem(
                await terminal.post("/api/v1/tickets", json=issue, headers=key())
            )
        assert all(code in (201, 503) for code in outcomes)
        # reads keep working on a full disk
        listed = await supervisor.get("/api/v1/tickets", params={"service_item": "MZ-001"})
        assert listed.status_code == 200
        waiting = len(listed.json()["items"])
        assert waiting == 1 + outcomes.count(201)
        assert (await supervisor.get("/api/v1/me")).status_code == 200
        assert (await supervisor.get("/readyz")).status_code == 200
        # space returns: writes work again
        filler.unlink()
        os.sync()
        after = await terminal.post("/api/v1/tickets", json=issue, headers=key())
        assert after.status_code == 201, after.text
        listed = await supervisor.get("/api/v1/tickets", params={"service_item": "MZ-001"})
        assert len(listed.json()["items"]) == waiting + 1
        await terminal.aclose()
        await supervisor.aclose()
    db = Database(settings.database_url)
    try:
        report = db.run_read(verify_chain)
    finally:
        db.close()
    assert report.intact, report
    assert report.rows > 2
