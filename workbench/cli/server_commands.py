"""Provides the commands that run or look after the backend: serve, seed, verify-chain,
export-audit, verify-export, backup, restore and openapi."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _settings(database: str | None) -> object:
    """The backend's settings from the environment; an invalid one ends the command with its
    name and what is wrong (exit code 2), not a traceback."""
    from pydantic import ValidationError

    from backend.runtime.settings import BackendSettings

    try:
        return BackendSettings() if database is None else BackendSettings(database_url=database)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        source = f"the environment variable WORKBENCH_{name.upper()}"
        if name == "database_url":
            source = f"--database or {source}"
        print(f"workbench: setting '{name}' is invalid: {message} ({source}).", file=sys.stderr)
        raise SystemExit(2) from None


def _settings_with_a_database(database: str | None, command: str) -> object:
    """`_settings`, and the database must answer: if it does not, the command ends with the
    driver's reason (exit code 2), not a traceback."""
    from backend.db.engine import connection_problem
    from backend.runtime.settings import BackendSettings

    settings = _settings(database)
    assert isinstance(settings, BackendSettings)
    problem = connection_problem(settings.database_url)
    if problem:
        print(f"workbench {command}: cannot use the database: {problem}", file=sys.stderr)
        raise SystemExit(2)
    return settings


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL (default: a SQLite file in the platform data directory, "
        "or $WORKBENCH_DATABASE_URL)",
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.runtime.settings import BackendSettings
    from backend.server.app import create_app
    from backend.server.gc_tuning import tune_for_serving
    from backend.server.logging_setup import configure_logging

    settings = _settings_with_a_database(args.database, "serve")
    assert isinstance(settings, BackendSettings)
    configure_logging(args.log_format, args.log_level)
    app = create_app(settings)
    tune_for_serving()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=args.graceful_seconds,
        timeout_keep_alive=int(settings.keep_alive_seconds),
    )
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    import functools

    from backend.db.engine import Database
    from backend.hall.hall_file import HallFileError, load_demo_hall, load_hall_file
    from backend.hall.seed import generated_password, load_hall
    from backend.runtime.passwords import Passwords
    from backend.runtime.settings import BackendSettings
    from backend.server.app import prepare_database

    settings = _settings_with_a_database(args.database, "seed")
    assert isinstance(settings, BackendSettings)
    try:
        hall_file = load_hall_file(Path(args.hall_file)) if args.hall_file else load_demo_hall()
    except (HallFileError, OSError) as exc:
        print(f"workbench seed: {exc}", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        prepare_database(db)
        passwords = Passwords(
            time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib
        )
        # a real hall's new accounts get random first passwords, never the demo's public one
        first_passwords = generated_password if args.hall_file else None
        report = db.run_write(
            functools.partial(load_hall, new_account_password=first_passwords),
            hall_file,
            passwords,
            args.password,
        )
    finally:
        db.close()
    print(
        f"Loaded hall {report.hall}: {report.service_items} service items, "
        f"{report.windows} windows."
    )
    print(f"{'account':<12} {'role':<11} {'window':<7} password")
    for username, role, window in report.users:
        shown = report.passwords_set.get(username, "(unchanged)")
        print(f"{username:<12} {role:<11} {window or '-':<7} {shown}")
    if args.hall_file and report.passwords_set and not args.password:
        print("New accounts' passwords are shown only now: hand them over privately.")
    return 0


def cmd_verify_chain(args: argparse.Namespace) -> int:
    from backend.db.engine import Database
    from backend.events.chain import verify_chain
    from backend.runtime.settings import BackendSettings

    settings = _settings_with_a_database(args.database, "verify-chain")
    assert isinstance(settings, BackendSettings)
    db = Database(settings.database_url)
    try:
        report = db.run_read(verify_chain)
    finally:
        db.close()
    if report.intact:
        print(f"Event log intact: {report.rows} events, hash chain verified.")
        return 0
    print(
        f"Event log ALTERED: first bad event is seq {report.first_bad_seq} ({report.reason}).",
        file=sys.stderr,
    )
    return 1


def cmd_export_audit(args: argparse.Namespace) -> int:
    from datetime import date

    from backend.db.engine import Database
    from backend.events.export import ExportError, Scope, collect, render
    from backend.runtime.settings import BackendSettings

    settings = _settings_with_a_database(args.database, "export-audit")
    assert isinstance(settings, BackendSettings)
    try:
        scope = Scope(case=args.case) if args.case else Scope(day=date.fromisoformat(args.day))
    except ValueError:
        print(f"workbench export-audit: {args.day!r} is not a YYYY-MM-DD date", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        header, rows = db.run_read(collect, scope)
    except ExportError as exc:
        print(f"workbench export-audit: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    text = render(header, rows, args.format)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Exported {len(rows)} events to {args.output}.", file=sys.stderr)
    return 0


def cmd_verify_export(args: argparse.Namespace) -> int:
    from backend.db.engine import Database
    from backend.events.export import (
        ExportError,
        check_against_database,
        iter_findings,
        read_export,
        verify_rows,
    )
    from backend.runtime.settings import BackendSettings

    try:
        header, rows = read_export(Path(args.file))
    except (ExportError, OSError) as exc:
        print(f"workbench verify-export: {exc}", file=sys.stderr)
        return 2
    report = verify_rows(rows, header)
    if args.database is not None:
        settings = _settings_with_a_database(args.database, "verify-export")
        assert isinstance(settings, BackendSettings)
        db = Database(settings.database_url)
        try:
            db.run_read(check_against_database, rows, report, header)
        finally:
            db.close()
    against = " and against the database" if report.checked_against_database else ""
    if report.intact:
        redacted = f" ({report.redacted} redacted rows checked by link only)" * bool(
            report.redacted and not report.checked_against_database
        )
        print(f"Export intact: {report.rows} events verified{against}{redacted}.")
        return 0
    print(f"Export ALTERED: {len(report.findings)} problem(s){against}:", file=sys.stderr)
    for line in iter_findings(report):
        print(f"  {line}", file=sys.stderr)
    return 1


def cmd_backup(args: argparse.Namespace) -> int:
    from backend.runtime.settings import BackendSettings
    from backend.server.backup import BackupError, backup

    settings = _settings(args.database)
    assert isinstance(settings, BackendSettings)
    try:
        report = backup(settings.database_url, Path(args.file))
    except (BackupError, OSError) as exc:
        print(f"workbench backup: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up to {report.path}: {report.bytes} bytes, {report.chain.rows} events verified.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from backend.runtime.settings import BackendSettings
    from backend.server.backup import BackupError, restore

    settings = _settings(args.database)
    assert isinstance(settings, BackendSettings)
    try:
        report = restore(Path(args.file), settings.database_url)
    except (BackupError, OSError) as exc:
        print(f"workbench restore: {exc}", file=sys.stderr)
        return 1
    print(f"Restored {report.path} from {args.file}: {report.chain.rows} events verified.")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from backend.server.contract import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0
