"""Provides the `workbench` command: the clerk's TUI (no subcommand, or `tui`), web, display,
demo, serve, seed, simulate, verify-chain, export-audit, verify-export, backup, restore and
openapi."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _settings(database: str | None) -> object:
    """The backend's settings from the environment; an invalid one ends the command with its
    name and what is wrong (exit code 2), not a traceback."""
    from pydantic import ValidationError

    from backend.settings import BackendSettings

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
    from backend.settings import BackendSettings

    settings = _settings(database)
    assert isinstance(settings, BackendSettings)
    problem = connection_problem(settings.database_url)
    if problem:
        print(f"workbench {command}: cannot use the database: {problem}", file=sys.stderr)
        raise SystemExit(2)
    return settings


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL (default: a SQLite file in the platform data directory, "
        "or $WORKBENCH_DATABASE_URL)",
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.app import create_app
    from backend.gc_tuning import tune_for_serving
    from backend.logging_setup import configure_logging
    from backend.settings import BackendSettings

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

    from backend.app import prepare_database
    from backend.db.engine import Database
    from backend.hall_file import HallFileError, load_demo_hall, load_hall_file
    from backend.passwords import Passwords
    from backend.seed import generated_password, load_hall
    from backend.settings import BackendSettings

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
    from backend.event_log import verify_chain
    from backend.settings import BackendSettings

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

    from backend.audit_export import ExportError, Scope, collect, render
    from backend.db.engine import Database
    from backend.settings import BackendSettings

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
    from backend.audit_export import (
        ExportError,
        check_against_database,
        iter_findings,
        read_export,
        verify_rows,
    )
    from backend.db.engine import Database
    from backend.settings import BackendSettings

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
    from backend.backup import BackupError, backup
    from backend.settings import BackendSettings

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
    from backend.backup import BackupError, restore
    from backend.settings import BackendSettings

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
    from backend.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from workbench.simulate import run_simulation

    return run_simulation(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from workbench.demo import run_demo

    return run_demo(args)


def cmd_tui(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from workbench.startup_settings import StartupSettings

    overrides: dict[str, object] = {}
    if getattr(args, "server", None):
        overrides["server_url"] = args.server
    if getattr(args, "no_keyring", False):
        overrides["keyring"] = False
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if getattr(args, "browser", False):
        # A browser session of `workbench web`: no keyring, and a data directory of its own
        # (platformdirs reads XDG_DATA_HOME), so neither the serving machine's last login nor
        # its outbox, nor another browser's, is reachable from this page.
        scratch = tempfile.TemporaryDirectory(prefix="workbench-web-")
        os.environ["XDG_DATA_HOME"] = scratch.name
        overrides["keyring"] = False
        overrides["outbox_path"] = Path(scratch.name) / "outbox.sqlite3"
    from workbench.app import WorkbenchApp

    # The login screen paints from the few settings it needs; the app validates them all
    # right after that paint and exits with status 2 and the field's name if one is invalid.
    app = WorkbenchApp(StartupSettings.read(**overrides))
    try:
        app.run()
    finally:
        if scratch is not None:
            scratch.cleanup()
    return app.return_code or 0


def cmd_web(args: argparse.Namespace) -> int:
    from workbench.i18n import set_language, t
    from workbench.settings import SettingsError, load_settings
    from workbench.web import serve_web

    overrides: dict[str, object] = {"server_url": args.server} if args.server else {}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"workbench web: {exc}", file=sys.stderr)
        return 2
    set_language(settings.language)
    serve_web(
        host=args.host,
        port=args.port,
        server_url=settings.server_url,
        public_url=args.public_url,
        title=t("web.title"),
    )
    return 0


def cmd_display(args: argparse.Namespace) -> int:
    import getpass
    import os

    from workbench.settings import SettingsError, load_settings

    overrides: dict[str, object] = {"server_url": args.server} if args.server else {}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"workbench display: {exc}", file=sys.stderr)
        return 2
    password = os.environ.get("WORKBENCH_DISPLAY_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            print(
                "workbench display: set WORKBENCH_DISPLAY_PASSWORD (no terminal to ask on)",
                file=sys.stderr,
            )
            return 2
        password = getpass.getpass(f"Password of {args.user} on {settings.server_url}: ")
    from workbench.announcer import Announcer
    from workbench.display_app import DisplayApp
    from workbench.display_feed import DisplayFeed

    feed = DisplayFeed(
        settings.server_url, hall=args.hall, ca_file=settings.ca_file, calls=args.calls
    )
    announcer = Announcer() if args.voice else None
    DisplayApp(
        feed,
        username=args.user,
        password=password,
        language=args.language or settings.language,
        announcer=announcer,
    ).run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench", description="Service Workbench: the government service hall desk tool."
    )
    parser.add_argument("--server", metavar="URL", help="the hall's API server (tui)")
    parser.set_defaults(run=cmd_tui)
    commands = parser.add_subparsers(dest="command")

    tui = commands.add_parser("tui", help="the clerk's workbench (the default)")
    tui.add_argument("--server", metavar="URL", help="the hall's API server")
    tui.add_argument(
        "--no-keyring",
        action="store_true",
        help="keep the session token in memory only (no keyring, no session to resume)",
    )
    tui.add_argument(
        "--browser",
        action="store_true",
        help=argparse.SUPPRESS,  # run by `workbench web` for each browser session
    )
    tui.set_defaults(run=cmd_tui)

    web = commands.add_parser(
        "web", help="serve the workbench to browsers (textual-serve; each session logs in)"
    )
    web.add_argument("--host", default="127.0.0.1", help="address to listen on")
    web.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    web.add_argument("--server", metavar="URL", help="the hall's API server")
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when not http://HOST:PORT (behind a proxy)",
    )
    web.set_defaults(run=cmd_web)

    display = commands.add_parser(
        "display", help="the hall's call display (numbers and windows; no personal data)"
    )
    display.add_argument("--server", metavar="URL", help="the hall's API server")
    display.add_argument(
        "--hall", metavar="CODE", help="hall code (admins only; default: the account's hall)"
    )
    display.add_argument(
        "--user",
        default="terminal01",
        help="display account: the terminal account, a supervisor or an admin "
        "(password from $WORKBENCH_DISPLAY_PASSWORD, else asked)",
    )
    display.add_argument(
        "--voice",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="announce each call with espeak-ng where installed (default: on)",
    )
    display.add_argument(
        "--language", choices=("zh", "en"), help="screen and voice language (default: settings)"
    )
    display.add_argument("--calls", type=int, default=8, help="recent calls shown (default: 8)")
    display.set_defaults(run=cmd_display)

    serve = commands.add_parser("serve", help="run the reference backend")
    _add_database(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log lines (default: text)"
    )
    serve.add_argument(
        "--graceful-seconds",
        type=float,
        default=10.0,
        help="on SIGTERM, how long in-flight requests may finish (default: 10)",
    )
    serve.set_defaults(run=cmd_serve)

    seed = commands.add_parser("seed", help="load a hall file (the demo hall by default)")
    _add_database(seed)
    seed.add_argument("--hall-file", metavar="FILE", help="hall file (TOML); default: demo hall")
    seed.add_argument("--password", metavar="P", help="set every seeded account's password")
    seed.set_defaults(run=cmd_seed)

    verify = commands.add_parser("verify-chain", help="verify the event log's hash chain")
    _add_database(verify)
    verify.set_defaults(run=cmd_verify_chain)

    export = commands.add_parser(
        "export-audit", help="the audit log of a case or a day (personal data masked)"
    )
    _add_database(export)
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--case", metavar="N", help="case id or number")
    which.add_argument("--day", metavar="YYYY-MM-DD", help="a UTC day")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", default="-", help="file to write (default: stdout)")
    export.set_defaults(run=cmd_export_audit)

    verify_export = commands.add_parser(
        "verify-export", help="verify an audit export's hashes (and against a database)"
    )
    verify_export.add_argument("file", metavar="FILE")
    verify_export.add_argument(
        "--database", metavar="URL", help="also compare with this database's verified chain"
    )
    verify_export.set_defaults(run=cmd_verify_export)

    backup = commands.add_parser("backup", help="online, consistent copy of the SQLite database")
    _add_database(backup)
    backup.add_argument("file", metavar="FILE")
    backup.set_defaults(run=cmd_backup)

    restore = commands.add_parser(
        "restore", help="replace the SQLite database with a checked backup (server stopped)"
    )
    _add_database(restore)
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(run=cmd_restore)

    openapi = commands.add_parser("openapi", help="print the API's OpenAPI document")
    openapi.add_argument("--output", default="-", help="file to write (default: stdout)")
    openapi.set_defaults(run=cmd_openapi)

    demo = commands.add_parser(
        "demo", help="an embedded backend with the seeded demo hall and the simulator feeding it"
    )
    demo.add_argument("--port", type=int, default=0, help="backend port (default: a free one)")
    demo.add_argument("--clerks", type=int, default=6, help="simulated clerks serving")
    demo.add_argument("--speed", type=float, default=10.0, help="simulation speed-up")
    demo.add_argument(
        "--headless", action="store_true", help="no workbench: print the accounts, keep serving"
    )
    demo.set_defaults(run=cmd_demo)

    simulate = commands.add_parser("simulate", help="feed a running backend with a live hall")
    simulate.add_argument("--server", default="http://127.0.0.1:8000")
    simulate.add_argument("--password", default=None, help="password of the seeded accounts")
    simulate.add_argument("--rate", type=float, default=2.0, help="tickets per minute at peak")
    simulate.add_argument(
        "--online-rate", type=float, default=0.5, help="online applications per minute"
    )
    simulate.add_argument("--clerks", type=int, default=0, help="simulated clerks serving")
    simulate.add_argument("--speed", type=float, default=1.0, help="time speed-up factor")
    simulate.add_argument("--duration", type=float, default=0, help="seconds to run (0: forever)")
    simulate.add_argument("--seed", type=int, default=None, help="random seed")
    simulate.set_defaults(run=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
