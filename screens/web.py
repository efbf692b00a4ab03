"""Provides `serve_web`: the workbench in a browser, through textual-serve.

textual-serve starts one app process per browser session. Each runs `workbench tui --browser`:
the user logs in in the page (any role), the token lives in that process's memory only, and the
process gets a scratch data directory of its own. Nothing of the serving machine's keyring,
last login or outbox is reachable from a browser, nor one browser's from another.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

__all__ = ["PAGE_TEMPLATES", "browser_command", "serve_web"]

PAGE_TEMPLATES = Path(__file__).with_name("web_page")
"""textual-serve's page with its font served from the same server: the stock page loads Roboto
Mono from a public font service, which a hall's network (and mainland China) cannot reach."""


def browser_command(server_url: str | None) -> str:
    """The shell command textual-serve runs for each browser session."""
    parts = [sys.executable, "-m", "workbench.cli", "tui", "--browser"]
    if server_url:
        parts += ["--server", server_url]
    return shlex.join(parts)


def serve_web(
    *,
    host: str,
    port: int,
    server_url: str | None,
    public_url: str | None = None,
    title: str = "Service Workbench",
) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM)."""
    import textual_serve
    from textual_serve.server import Server

    server = Server(
        browser_command(server_url),
        host=host,
        port=port,
        title=title,
        public_url=public_url,
        statics_path=Path(textual_serve.__file__).with_name("static"),
        templates_path=PAGE_TEMPLATES,
    )
    server.serve()
