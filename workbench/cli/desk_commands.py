"""Provides the commands that start a desk: the clerk's TUI, the browser view, the call display,
the demo and the hall simulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_simulate(args: argparse.Namespace) -> int:
    from workbench.cli.simulate import run_simulation

    return run_simulation(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from workbench.cli.demo import run_demo

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
    from screens.app import WorkbenchApp

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
    from screens.web import serve_web
    from workbench.i18n import set_language, t
    from workbench.settings import SettingsError, load_settings

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
    from screens.display_app import DisplayApp
    from workbench.announcer import Announcer
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
