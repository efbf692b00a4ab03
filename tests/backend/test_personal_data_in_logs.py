"""Personal data never reaches the logs: a realistic session against `workbench serve --log-format
json --log-level debug` (logins, tickets with the applicant's card, intake with ID and phone,
reveals, an e-licence look-up by ID number, a refused intake), then the captured log is grepped for
every seeded ID number, phone and name. The same log shows the structured lines: JSON, one access
line per request, each with its request id."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from backend.server.embedded import free_port
from backend.server.logging_setup import JsonFormatter, RequestIdFilter, TextFormatter, scrub
from tests.api.test_audit_export import PEOPLE, personal_values, realistic_session
from tests.conftest import seeded_settings
from tests.servers import FAST_HASH_ENV, ROOT


def serve(database_url: str, log: Path, fmt: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "workbench.cli", "serve", "--database", database_url]
    command += ["--port", str(port), "--log-level", "debug", "--log-format", fmt]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **FAST_HASH_ENV}, stdout=sink, stderr=sink
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=0.5).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(log.read_text())


@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_a_full_session_leaves_no_personal_data_in_the_logs(tmp_path: Path, fmt: str) -> None:
    settings = seeded_settings(tmp_path)
    log = tmp_path / "server.log"
    process, base_url = serve(settings.database_url, log, fmt)
    try:
        await realistic_session(base_url)
        async with httpx.AsyncClient(base_url=base_url) as plain:
            traced = await plain.get("/healthz", headers={"X-Request-ID": "trace-42"})
            assert traced.headers["X-Request-ID"] == "trace-42"
            made_up = await plain.get("/healthz", headers={"X-Request-ID": "bad id; <script>"})
            assert len(made_up.headers["X-Request-ID"]) == 32
    finally:
        process.terminate()
        process.wait(timeout=15)
    text = log.read_text(encoding="utf-8")
    assert text.count("\n") > 30  # the session was logged
    for value in personal_values():
        assert value not in text, f"{value!r} leaked into the logs"
        assert value.lower() not in text.lower()
    if fmt == "json":
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        access = [line for line in lines if line["logger"] == "workbench.access"]
        assert len(access) > 30
        assert all(line["request_id"] and line["route"] for line in access)
        assert {"method", "status", "duration_ms"} <= set(access[0])
        assert any(line["request_id"] == "trace-42" for line in access)
        assert any(line["route"] == "/api/v1/e-licences" for line in access)
        assert len({line["request_id"] for line in access}) == len(access)
    else:
        assert "[trace-42]" in text


def test_formatters_scrub_what_slips_through() -> None:
    person = PEOPLE[0]
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "lookup %s %s", (person.id_number, person.phone), None
    )
    RequestIdFilter().filter(record)
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record)
        assert person.id_number not in line and person.phone not in line
        assert person.id_number[:6] in line and person.phone[-4:] in line
    assert scrub("call 13912345678 now") == "call 139****5678 now"
