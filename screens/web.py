"""Provides `serve_web`: the workbench in a browser, through textual-serve.

textual-serve starts one app process per browser session. Each runs `workbench tui --browser`:
the user logs in in the page (any role), the token lives in that process's memory only, and the
process gets a scratch data directory of its own. Nothing of the serving machine's keyring,
last login or outbox is reachable from a browser, nor one browser's from another.
"""

from __future__ import annotations

import shlex
import sys

__all__ = ["browser_command", "serve_web"]


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
    from textual_serve.server import Server

    server = Server(
        browser_command(server_url),
        host=host,
        port=port,
        title=title,
        public_url=public_url,
    )
    server.serve()
