"""Provides the `workbench` command: the clerk's TUI (no subcommand, or `tui`), web, display,
demo, serve, seed, simulate, verify-chain, export-audit, verify-export, backup, restore and
openapi."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from workbench.cli.desk_commands import cmd_demo, cmd_display, cmd_simulate, cmd_tui, cmd_web
from workbench.cli.server_commands import (
    add_database_option,
    cmd_backup,
    cmd_export_audit,
    cmd_openapi,
    cmd_restore,
    cmd_seed,
    cmd_serve,
    cmd_verify_chain,
    cmd_verify_export,
)


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
    add_database_option(serve)
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
    add_database_option(seed)
    seed.add_argument("--hall-file", metavar="FILE", help="hall file (TOML); default: demo hall")
    seed.add_argument("--password", metavar="P", help="set every seeded account's password")
    seed.set_defaults(run=cmd_seed)

    verify = commands.add_parser("verify-chain", help="verify the event log's hash chain")
    add_database_option(verify)
    verify.set_defaults(run=cmd_verify_chain)

    export = commands.add_parser(
        "export-audit", help="the audit log of a case or a day (personal data masked)"
    )
    add_database_option(export)
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
    add_database_option(backup)
    backup.add_argument("file", metavar="FILE")
    backup.set_defaults(run=cmd_backup)

    restore = commands.add_parser(
        "restore", help="replace the SQLite database with a checked backup (server stopped)"
    )
    add_database_option(restore)
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
    simulate.add_argument(
        "--as-open",
        action="store_true",
        help="visitors arrive as in opening hours whatever the hall's clock says",
    )
    simulate.set_defaults(run=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
