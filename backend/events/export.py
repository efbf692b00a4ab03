"""Provides the audit export: the event log of one case or one day as JSON lines or CSV, with the
applicants' personal data masked, and the verification an auditor runs on such a file.

An export row is the stored event row (sequence, hall, type, subject, actor, time, payload as
stored, the previous row's hash and its own hash), so the auditor recomputes every row's hash
with the same function the chain-verify command uses. Offline, `verify_export` checks that each
row's content matches its hash and that rows with consecutive sequence numbers link up; a day's
export is one consecutive run, so a removed row shows as a gap. Given the database as well, it
also checks every row's hash against the stored chain (itself verified) and that no row of the
scope is missing, which catches a forger who recomputed the hashes of the rows they changed.

Event payloads hold no personal data by design; as a second line of defence every payload is
scanned for resident ID numbers, mobile numbers and the names of the applicants in scope, and
masked where found. A masked row is marked `redacted`: its content can no longer be rehashed
offline (its links still are), and with the database its stored hash is compared instead.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, and_, or_, select

from api_client.identity import mask_phone, mask_resident_id
from backend.db.event_log import GENESIS_HASH, iso_text, row_hash
from backend.db.schema import applicants, cases, chain_head, events, service_items, tickets
from backend.events.chain import verify_chain

Format = Literal["jsonl", "csv"]
FIELDS = (
    "seq",
    "hall_id",
    "type",
    "subject_type",
    "subject_id",
    "actor_id",
    "actor",
    "at",
    "payload",
    "prev_hash",
    "hash",
    "redacted",
)
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")


class ExportError(Exception):
    """The scope of an export does not exist, or a file is not an audit export."""


def mask_name(name: str) -> str:
    """Keep the first character of a name: 张三丰 -> 张**, Alice -> A****."""
    text = name.strip()
    return text[:1] + "*" * (len(text) - 1) if text else text


@dataclass
class Masker:
    """Masks the personal data it knows of (names) or recognises (ID numbers, mobiles)."""

    names: set[str] = field(default_factory=set)

    def text(self, value: str) -> str:
        masked = _ID_NUMBER.sub(lambda m: mask_resident_id(m.group(0)), value)
        masked = _MOBILE.sub(lambda m: mask_phone(m.group(0)), masked)
        for name in sorted(self.names, key=len, reverse=True):
            if len(name) >= 2:
                masked = masked.replace(name, mask_name(name))
        return masked


@dataclass(frozen=True)
class Scope:
    """What an export covers: one case (by id or number) or one UTC day."""

    case: str | None = None
    day: date | None = None

    def describe(self) -> dict[str, Any]:
        return {"case": self.case} if self.case is not None else {"day": str(self.day)}


def _case_row(conn: Connection, case: str) -> Any:
    query = (
        select(
            cases.c.id,
            cases.c.number,
            cases.c.status,
            cases.c.ticket_id,
            service_items.c.code.label("service_item"),
            applicants.c.name,
            applicants.c.id_number,
            applicants.c.phone,
        )
        .join(applicants, applicants.c.id == cases.c.applicant_id)
        .join(service_items, service_items.c.id == cases.c.service_item_id)
    )
    where = cases.c.id == int(case) if case.isdigit() else cases.c.number == case
    row = conn.execute(query.where(where)).first()
    if row is None:
        raise ExportError(f"there is no case {case}")
    return row


def _scope_filter(conn: Connection, scope: Scope) -> tuple[Any, Masker, dict[str, Any]]:
    """The WHERE clause of the scope's events, a masker for them, and the header's subject."""
    masker = Masker()
    if scope.case is not None:
        row = _case_row(conn, scope.case)
        masker.names.add(row.name)
        subject = {
            "case": row.number,
            "case_id": row.id,
            "status": row.status,
            "service_item": row.service_item,
            "applicant": {
                "name": mask_name(row.name),
                "id_number": mask_resident_id(row.id_number),
                "phone": mask_phone(row.phone) if row.phone else None,
            },
        }
        clause = and_(events.c.subject_type == "case", events.c.subject_id == str(row.id))
        if row.ticket_id is not None:
            clause = or_(
                clause,
                and_(events.c.subject_type == "ticket", events.c.subject_id == str(row.ticket_id)),
            )
        return clause, masker, subject
    assert scope.day is not None
    start = datetime.combine(scope.day, time(0), tzinfo=UTC)
    clause = and_(events.c.at >= start, events.c.at < start + timedelta(days=1))
    # names of the applicants whose cases or tickets appear that day
    day_cases = select(applicants.c.name).join(cases, cases.c.applicant_id == applicants.c.id)
    day_tickets = select(applicants.c.name).join(tickets, tickets.c.applicant_id == applicants.c.id)
    subjects = select(events.c.subject_type, events.c.subject_id).where(clause)
    case_ids = [int(r.subject_id) for r in conn.execute(subjects) if r.subject_type == "case"]
    ticket_ids = [int(r.subject_id) for r in conn.execute(subjects) if r.subject_type == "ticket"]
    if case_ids:
        masker.names.update(conn.scalars(day_cases.where(cases.c.id.in_(case_ids))))
    if ticket_ids:
        masker.names.update(conn.scalars(day_tickets.where(tickets.c.id.in_(ticket_ids))))
    return clause, masker, {"day": str(scope.day)}


def _export_row(row: dict[str, Any], masker: Masker) -> dict[str, Any]:
    payload = masker.text(row["payload"])
    return {
        "seq": int(row["seq"]),
        "hall_id": row["hall_id"],
        "type": row["type"],
        "subject_type": row["subject_type"],
        "subject_id": row["subject_id"],
        "actor_id": row["actor_id"],
        "actor": row["actor"],
        "at": iso_text(row["at"]),
        "payload": payload,
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
        "redacted": payload != row["payload"],
    }


def collect(conn: Connection, scope: Scope) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The export's header and its rows, in sequence order."""
    clause, masker, subject = _scope_filter(conn, scope)
    stored = conn.execute(select(events).where(clause).order_by(events.c.seq)).mappings()
    rows = [_export_row(dict(r), masker) for r in stored]
    head = conn.execute(select(chain_head.c.seq, chain_head.c.hash)).first()
    header = {
        "kind": "audit-export",
        "version": 1,
        "scope": scope.describe(),
        "subject": subject,
        "rows": len(rows),
        "first_seq": rows[0]["seq"] if rows else None,
        "last_seq": rows[-1]["seq"] if rows else None,
        "chain_head": {"seq": head.seq, "hash": head.hash} if head else None,
        "redacted_rows": sum(r["redacted"] for r in rows),
    }
    return header, rows


def render(header: dict[str, Any], rows: list[dict[str, Any]], fmt: Format) -> str:
    """The export as text: JSON lines (a header line, then one line per event) or CSV."""
    if fmt == "jsonl":
        lines = [json.dumps(header, ensure_ascii=False, sort_keys=True)]
        lines += [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows]
        return "\n".join(lines) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "redacted": "1" if row["redacted"] else "0"})
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# verification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One row that does not hold, named by its sequence number (and line in the file)."""

    seq: int | None
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "file"
        return f"{where} (line {self.line}): {self.reason}"


@dataclass
class ExportReport:
    """What `verify_export` found."""

    rows: int = 0
    redacted: int = 0
    checked_against_database: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def normalise_row(raw: dict[str, Any]) -> dict[str, Any]:
    """An export row read back from JSON or CSV, with the types the hash was computed over."""
    redacted = raw.get("redacted")
    return {
        "seq": int(raw["seq"]),
        "hall_id": _int_or_none(raw.get("hall_id")),
        "type": raw["type"],
        "subject_type": raw["subject_type"],
        "subject_id": str(raw["subject_id"]),
        "actor_id": _int_or_none(raw.get("actor_id")),
        "actor": raw.get("actor") if raw.get("actor") != "" else None,
        "at": raw["at"],
        "payload": raw["payload"],
        "prev_hash": raw["prev_hash"],
        "hash": raw["hash"],
        "redacted": redacted in (True, "1", "true", "True"),
    }


def read_export(path: Path) -> tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]]]:
    """The header (JSON lines only) and the (line number, row) pairs of an export file."""
    text = path.read_text(encoding="utf-8")
    rows: list[tuple[int, dict[str, Any]]] = []
    header: dict[str, Any] | None = None
    try:
        if text.lstrip().startswith("{"):
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                data = json.loads(line)
                if data.get("kind") == "audit-export":
                    header = data
                else:
                    rows.append((number, normalise_row(data)))
        else:
            reader = csv.DictReader(io.StringIO(text))
            if reader.fieldnames is None or set(FIELDS) - set(reader.fieldnames):
                raise ExportError(f"{path} is not an audit export (CSV columns differ)")
            for number, data in enumerate(reader, start=2):
                rows.append((number, normalise_row(data)))
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportError(f"{path} is not a readable audit export: {exc}") from exc
    return header, rows


def verify_rows(
    rows: Iterable[tuple[int, dict[str, Any]]], header: dict[str, Any] | None = None
) -> ExportReport:
    """Check each row against its hash and each consecutive pair's link, offline."""
    report = ExportReport()
    previous: dict[str, Any] | None = None
    seen: set[int] = set()
    for line, row in rows:
        report.rows += 1
        seq = row["seq"]
        if seq in seen:
            report.findings.append(Finding(seq, line, "the row appears twice"))
        seen.add(seq)
        if previous is not None and seq <= previous["seq"]:
            report.findings.append(Finding(seq, line, "rows are out of sequence order"))
        if row["redacted"]:
            report.redacted += 1
        elif row_hash(row["prev_hash"], row) != row["hash"]:
            report.findings.append(Finding(seq, line, "row content does not match its hash"))
        if seq == 1 and row["prev_hash"] != GENESIS_HASH:
            report.findings.append(Finding(seq, line, "the first event does not start the chain"))
        if previous is not None and seq == previous["seq"] + 1:
            if row["prev_hash"] != previous["hash"]:
                link = f"link to seq {previous['seq']} is broken"
                report.findings.append(Finding(seq, line, link))
        elif previous is not None and header is not None and "day" in header.get("scope", {}):
            report.findings.append(
                Finding(seq, line, f"sequence gap: rows after seq {previous['seq']} are missing")
            )
        previous = row
    if header is not None and header.get("rows") != report.rows:
        report.findings.append(
            Finding(
                None,
                1,
                f"the header lists {header.get('rows')} rows, the file has {report.rows}",
            )
        )
    return report


def check_against_database(
    conn: Connection,
    rows: list[tuple[int, dict[str, Any]]],
    report: ExportReport,
    header: dict[str, Any] | None = None,
) -> None:
    """Compare every exported row with the stored chain (which must itself verify), and the
    scope's rows in the database with the file's, naming what differs."""
    report.checked_against_database = True
    chain = verify_chain(conn)
    if not chain.intact:
        report.findings.append(
            Finding(chain.first_bad_seq, 0, f"the database's own chain is broken: {chain.reason}")
        )
    expected: dict[int, dict[str, Any]] = {}
    scope = (header or {}).get("scope") or {}
    if scope:
        try:
            _, scoped = collect(conn, Scope(case=scope.get("case"), day=_day(scope.get("day"))))
        except ExportError as exc:
            report.findings.append(Finding(None, 1, str(exc)))
            scoped = []
        expected = {r["seq"]: r for r in scoped}
    wanted = [row["seq"] for _, row in rows if row["seq"] not in expected]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for r in conn.execute(select(events).where(events.c.seq.in_(chunk))).mappings():
            expected[int(r["seq"])] = _export_row(dict(r), Masker())
    for line, row in rows:
        original = expected.get(row["seq"])
        if original is None:
            report.findings.append(Finding(row["seq"], line, "no such event in the database"))
            continue
        if original["hash"] != row["hash"] or original["prev_hash"] != row["prev_hash"]:
            report.findings.append(
                Finding(row["seq"], line, "hash differs from the database's chain")
            )
            continue
        differing = [name for name in FIELDS if original[name] != row[name]]
        if differing:
            report.findings.append(
                Finding(row["seq"], line, f"{', '.join(differing)} differ(s) from the log")
            )
    present = {row["seq"] for _, row in rows}
    last = (header or {}).get("last_seq")
    for seq in sorted(set(expected) - present):
        if scope and (last is None or seq <= last):  # later rows were written after the export
            report.findings.append(Finding(seq, 0, "missing from the export"))


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def iter_findings(report: ExportReport) -> Iterator[str]:
    for finding in report.findings:
        yield str(finding)
