"""Fault injection at scale, the fast version of `make soak` (bench/soak.py): changes from 20
outbox clients while the backend is SIGKILLed at random moments, then every change applied
exactly once by its idempotency key and the event log agreeing and verifying; and a short load
run (clerks calling, starting and finishing while terminals issue) with the exclusion and
completeness checks over the whole log. Also the operator metrics those runs rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import fault_injection, load
from tests.conftest import Backend, key

pytestmark = pytest.mark.sqlite_only  # the soak harness seeds its own SQLite files


async def test_sigkill_during_changes_from_twenty_outboxes(tmp_path: Path) -> None:
    report = await fault_injection(tmp_path, changes=200, clients=20, kills=2)
    assert report.faults == 2, report
    assert report.answered == report.changes == 200, report

    assert report.double_applied == 0 and report.lost == 0, report
    assert report.conflicts == 0, report
    assert report.issued == report.tickets_in_db, report
    assert report.calls_answered == report.called_events, report
    assert report.chain_intact, report


async def test_metrics_count_claims_replays_queues_and_streams(fresh_backend: Backend) -> None:
    terminal = await fresh_backend.login("terminal01")
    clerk = await fresh_backend.login("clerk04", "W04")
    for _ in range(3):
        issued = await terminal.post(
            "/api/v1/tickets", json={"service_item": "MZ-001"}, headers=key()
        )
        assert issued.status_code == 201
    same = key()
    first = await clerk.post("/api/v1/windows/W04/call-next", headers=same)
    again = await clerk.post("/api/v1/windows/W04/call-next", headers=same)
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert first.json() == again.json()
    async with clerk.stream("GET", "/api/v1/events") as stream:
        assert stream.status_code == 200
        text = (await terminal.get("/metrics")).text
    await terminal.aclose()
    await clerk.aclose()
    assert 'workbench_claims_total{kind="ticket",outcome="claimed"} 1.0' in text
    assert "workbench_idempotent_replays_total" in text
    assert 'route="/api/v1/windows/{window}/call-next"} 1.0' in text
    assert 'workbench_queue_length{hall="DL-ZS",queue="tickets_waiting"} 2.0' in text
    assert "workbench_event_stream_clients 1.0" in text


async def test_two_hundred_clerks_for_thirty_seconds(tmp_path: Path) -> None:
    report = await load(tmp_path, clerks=200, seconds=30)
    assert report.requests > 0 and report.served > 0, report  # throughput: bench/soak.py
    assert report.double_claims == 0, report
    assert report.lost == 0, report
    assert report.chain_intact, report
    server_errors = {status: n for status, n in report.errors.items() if status != 599}
    assert not server_errors, report
    # a transport error (a timeout under this load) may happen; it must stay exceptional
    assert report.errors.get(599, 0) <= report.requests // 1000, report
