"""The audit export: a case's or a day's events as JSON lines and CSV, personal data masked, and
verified by `workbench verify-export` offline and against the database; tampering with any row,
in any field, is detected and the row named. Also holds `realistic_session`, the demo run the
personal-data-in-logs test replays."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_client.identity import make_resident_id
from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend, key
from workbench.cli import main

SUBSISTENCE = "MZ-002"
MARRIAGE = "MZ-001"  # served by W04


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    phone: str


PEOPLE = (
    Person(make_resident_id("110105", datetime(1958, 3, 14).date(), 27), "欧阳春花", "13912345678"),
    Person(
        make_resident_id("210203", datetime(1987, 11, 2).date(), 132), "司马长风", "15887654321"
    ),
    Person(
        make_resident_id("310101", datetime(2001, 6, 30).date(), 481),
        "Zhang Weiming",
        "18600011122",
    ),
)


async def _login(base_url: str, user: str, window: str | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    body: dict[str, Any] = {"username": user, "password": DEMO_PASSWORD}
    if window:
        body["window"] = window
    response = await client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


async def realistic_session(base_url: str) -> list[int]:
    """Logins (one with a wrong password), tickets with the applicant's card swiped, a call,
    reveal, start and finish, online intake with ID and phone, claim, verification, decisions,
    a case reveal and an e-licence look-up by ID number. Returns the case ids."""
    anonymous = httpx.AsyncClient(base_url=base_url, timeout=30)
    wrong = {"username": "clerk05", "password": PEOPLE[0].id_number}
    assert (await anonymous.post("/api/v1/auth/login", json=wrong)).status_code == 401
    await anonymous.aclose()
    terminal = await _login(base_url, "terminal01")
    portal = await _login(base_url, "portal01")
    clerk = await _login(base_url, "clerk04", "W04")
    caseworker = await _login(base_url, "clerk03", "W03")
    case_ids: list[int] = []
    try:
        for person in PEOPLE:
            body = {
                "service_item": MARRIAGE,
                "applicant_id_number": person.id_number,
                "applicant_name": person.name,
            }
            issued = await terminal.post("/api/v1/tickets", json=body, headers=key())
            assert issued.status_code == 201, issued.text
        called = await clerk.post("/api/v1/windows/W04/call-next", headers=key())
        assert called.status_code == 200, called.text
        ticket = called.json()["id"]
        revealed = await clerk.post(f"/api/v1/tickets/{ticket}/reveal", headers=key())
        assert revealed.status_code == 200, revealed.text
        for action, extra in (("start", None), ("finish", {"outcome": "completed"})):
            done = await clerk.post(f"/api/v1/tickets/{ticket}/{action}", json=extra, headers=key())
            assert done.status_code == 200, done.text
        for person in PEOPLE:
            intake = {
                "service_item": SUBSISTENCE,
                "applicant": {
                    "id_number": person.id_number,
                    "name": person.name,
                    "phone": person.phone,
                },
                "materials": [],
            }
            created = await portal.post("/api/v1/cases", json=intake, headers=key())
            assert created.status_code == 201, created.text
            case_ids.append(int(created.json()["id"]))
        # a refused intake: the ID number's check digit is wrong
        bad = {**intake, "applicant": {**intake["applicant"], "id_number": "110105195803140271"}}
        refused = await portal.post("/api/v1/cases", json=bad, headers=key())
        assert refused.status_code == 422, refused.text
        for case_id in case_ids:
            await caseworker.get(f"/api/v1/cases/{case_id}")
        case = case_ids[0]
        current = (await caseworker.get(f"/api/v1/cases/{case}")).json()
        for material in ("application", "id_card", "household_register", "income_authorisation"):
            verified = await caseworker.put(
                f"/api/v1/cases/{case}/materials/{material}",
                json={
                    "status": "provided",
                    "provided_as": "original",
                    "document": {"valid_until": "2040-01-01"},
                },
                headers={**key(), "If-Match": f'"{current["version"]}"'},
            )
            assert verified.status_code == 200, verified.text
            current = verified.json()
        accepted = await caseworker.post(
            f"/api/v1/cases/{case}/decisions",
            json={"decision": "accept", "note": "materials complete"},
            headers={**key(), "If-Match": f'"{current["version"]}"'},
        )
        assert accepted.status_code == 201, accepted.text
        revealed = await caseworker.post(f"/api/v1/cases/{case}/reveal", headers=key())
        assert revealed.status_code == 200 and revealed.json()["phone"] == PEOPLE[0].phone
        looked_up = await caseworker.get(
            "/api/v1/e-licences", params={"holder": PEOPLE[1].id_number}
        )
        assert looked_up.status_code == 200, looked_up.text
        await caseworker.get("/api/v1/cases", params={"status": "submitted"})
        for client in (terminal, portal, clerk, caseworker):
            assert (await client.post("/api/v1/auth/logout")).status_code == 204
    finally:
        for client in (terminal, portal, clerk, caseworker):
            await client.aclose()
    return case_ids


def personal_values() -> list[str]:
    values = []
    for person in PEOPLE:
        values += [person.id_number, person.name, person.phone]
    return values


def export(database_url: str, path: Path, *args: str) -> None:
    argv = ["export-audit", "--database", database_url, *args, "--output", str(path)]
    assert main(argv) == 0


def verify(path: Path, database_url: str | None, capsys: pytest.CaptureFixture[str]) -> str:
    argv = ["verify-export", str(path)] + (["--database", database_url] if database_url else [])
    code = main(argv)
    captured = capsys.readouterr()
    return f"{code}\n{captured.out}{captured.err}"


@pytest.fixture
async def session(fresh_backend: Backend) -> tuple[Backend, list[int]]:
    return fresh_backend, await realistic_session(fresh_backend.base_url)


async def test_case_export_masks_personal_data_and_verifies(
    session: tuple[Backend, list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend, cases = session
    url = backend.settings.database_url
    for fmt in ("jsonl", "csv"):
        path = tmp_path / f"case.{fmt}"
        export(url, path, "--case", str(cases[0]), "--format", fmt)
        text = path.read_text(encoding="utf-8")
        for value in personal_values():
            assert value not in text, (fmt, value)
        for offline in (None, url):
            assert verify(path, offline, capsys).startswith("0\nExport intact")
    header, *rows = (
        json.loads(line) for line in (tmp_path / "case.jsonl").read_text().splitlines()
    )
    assert header["subject"]["applicant"] == {
        "name": "欧***",
        "id_number": PEOPLE[0].id_number[:6] + "*" * 8 + PEOPLE[0].id_number[-4:],
        "phone": "139****5678",
    }
    kinds = [r["type"] for r in rows]
    assert kinds[0] == "case.submitted" and "case.accepted" in kinds
    assert "personal_data.revealed" in kinds
    assert header["rows"] == len(rows) and header["redacted_rows"] == 0


async def test_day_export_is_one_gap_free_run(
    session: tuple[Backend, list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend, _ = session
    url = backend.settings.database_url
    day = datetime.now(UTC).date().isoformat()
    path = tmp_path / "day.jsonl"
    export(url, path, "--day", day)
    _, *rows = (json.loads(line) for line in path.read_text().splitlines())
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) > 20
    assert verify(path, url, capsys).startswith("0\nExport intact")
    # removing a row from the middle of a day's run is a gap, offline already
    lines = path.read_text().splitlines()
    gone = json.loads(lines[10])["seq"]
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:10] + lines[11:]) + "\n")
    result = verify(tmp_path / "cut.jsonl", None, capsys)
    assert result.startswith("1\n") and f"seq {gone + 1}" in result and "gap" in result


TAMPERS: dict[str, Any] = {
    "type": "case.rejected",
    "actor": "super01",
    "actor_id": 999,
    "subject_id": "424242",
    "at": "2020-01-01T00:00:00.000000Z",
    "payload": '{"status":"approved"}',
    "hall_id": 77,
}


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_tampering_with_any_row_is_detected_and_named(
    session: tuple[Backend, list[int]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    backend, cases = session
    url = backend.settings.database_url
    path = tmp_path / f"case.{fmt}"
    export(url, path, "--case", str(cases[0]), "--format", fmt)
    original = path.read_text(encoding="utf-8")
    header, rows = _parse(original, fmt)
    for index, row in enumerate(rows):
        for field, value in TAMPERS.items():
            changed = [dict(r) for r in rows]
            changed[index][field] = value
            path.write_text(_unparse(header, changed, fmt), encoding="utf-8")
            result = verify(path, None, capsys)
            assert result.startswith("1\n"), (index, field, result)
            assert f"seq {row['seq']} " in result, (index, field, result)
    # a forger who also recomputes the hash is caught against the database
    from backend.db.event_log import row_hash
    from backend.events.export import normalise_row

    forged = [dict(r) for r in rows]
    target = forged[-1]  # no later row in the file to link to it
    target["actor"] = "super01"
    target["hash"] = row_hash(target["prev_hash"], normalise_row(target))
    path.write_text(_unparse(header, forged, fmt), encoding="utf-8")
    assert verify(path, None, capsys).startswith("0\n")  # self-consistent on its own
    result = verify(path, url, capsys)
    assert result.startswith("1\n") and f"seq {target['seq']} " in result, result
    # and a row dropped from a case export is missing against the database
    if fmt == "jsonl":
        dropped = rows[:2] + rows[3:]
        header = {**header, "rows": len(dropped)}
        path.write_text(_unparse(header, dropped, fmt), encoding="utf-8")
        result = verify(path, url, capsys)
        assert f"seq {rows[2]['seq']} " in result and "missing from the export" in result


def _parse(text: str, fmt: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    if fmt == "jsonl":
        header, *rows = (json.loads(line) for line in text.splitlines())
        return header, rows
    return None, list(csv.DictReader(io.StringIO(text)))


def _unparse(header: dict[str, Any] | None, rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "jsonl":
        return "\n".join(json.dumps(x, ensure_ascii=False) for x in [header, *rows]) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


async def test_unknown_case_and_bad_day_are_refused(fresh_backend: Backend, tmp_path: Path) -> None:
    url = fresh_backend.settings.database_url
    out = str(tmp_path / "x")
    assert main(["export-audit", "--database", url, "--case", "999999", "--output", out]) == 2
    assert main(["export-audit", "--database", url, "--day", "2024-13-01", "--output", out]) == 2
