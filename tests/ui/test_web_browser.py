"""`workbench web` in real headless Chromium: a supervisor logs in by typing into the page and
sees a ticket that is issued and called while they watch. The serving machine's own keyring
(a saved session of that very supervisor) and last login are not reachable from the page.

The page is textual-serve's xterm.js terminal, drawn on a canvas: the test reads the terminal's
buffer through the page (an init script keeps a reference to the xterm `Terminal` object when
textual-serve's client stores it) and types with the browser's keyboard.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, Route, async_playwright

from backend.server.embedded import free_port
from tests.conftest import Backend, key
from tests.file_keyring import ENV as KEYRING_FILE_ENV
from tests.file_keyring import FileKeyring
from workbench.credentials import CredentialStore
from workbench.last_login import save_last_login

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason="Debian's chromium is not installed and could not be (.ci/run installs it with "
    "apt-get; this machine has no chromium package)",
)

# textual-serve's client does `this.terminal = new Terminal(...)`: this setter catches it.
KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    (window.__terminals = window.__terminals || []).push(value);
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
  },
});
"""
READ_SCREEN = """() => {
  const term = (window.__terminals || [])[0];
  if (!term) return "";
  const lines = [];
  for (let row = 0; row < term.rows; row++) {
    const line = term.buffer.active.getLine(row);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""


class WebServer:
    """`workbench web` as a child process on a free port."""

    def __init__(self, server_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        command = [sys.executable, "-m", "workbench.cli", "web", "--port", str(self.port)]
        command += ["--server", server_url]
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=dict(os.environ)
        )

    def wait_ready(self) -> None:
        for _ in range(300):
            assert self.process.poll() is None, "workbench web ended at start"
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("workbench web did not answer")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


async def screen_until(page: Page, check: Callable[[str], bool], what: str) -> str:
    text = ""
    for _ in range(300):
        text = str(await page.evaluate(READ_SCREEN))
        if check(text):
            return text
        await asyncio.sleep(0.2)
    raise AssertionError(f"the page never showed {what}; it shows:\n{text}")


@pytest.fixture
def serving_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The serving machine's keyring: a real backend over a file, for this process and
    every process `workbench web` starts."""
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.file_keyring.FileKeyring")
    monkeypatch.setenv(KEYRING_FILE_ENV, str(path))
    return path


async def test_a_supervisor_in_chromium_sees_a_ticket_called_while_watching(
    fresh_backend: Backend,
    serving_keyring: Path,
    terminal: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    base = fresh_backend.base_url
    # The serving machine's own workbench left super01's session in its keyring and its
    # last login on disk: neither may show up in a browser.
    saved = await fresh_backend.login("super01")
    token = saved.headers["Authorization"].removeprefix("Bearer ")
    await saved.aclose()
    CredentialStore(FileKeyring()).set(f"{base}|super01", token)  # not the process's keyring
    save_last_login(base, "super01", None)
    keyring_before = await asyncio.to_thread(serving_keyring.read_text)
    clerk = await fresh_backend.login("clerk01", "W01")

    server = WebServer(base, tmp_path / "web.log")
    try:
        server.wait_ready()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"]
            )
            try:
                page = await browser.new_page(viewport={"width": 1600, "height": 1000})
                # The hall's network reaches nothing outside: every request to another host
                # fails, and is counted.
                outside: list[str] = []
                fonts: list[str] = []

                async def only_the_hall(route: Route) -> None:
                    url = route.request.url
                    if url.startswith(("http://127.0.0.1", "ws://127.0.0.1")):
                        if "/fonts/" in url:
                            fonts.append(url)
                        await route.continue_()
                    else:
                        outside.append(url)
                        await route.abort("internetdisconnected")

                await page.route("**/*", only_the_hall)
                await page.add_init_script(KEEP_TERMINAL)
                await page.goto(server.url)
                login = await screen_until(
                    page, lambda s: "Log in to your window" in s, "the login screen"
                )
                assert "super01" not in login, "the server's last login leaked into the page"
                assert outside == [], "the page asked for something outside the hall"
                await page.evaluate("document.fonts.ready")
                assert await page.evaluate("document.fonts.check('16px \"Roboto Mono\"')")
                assert fonts, "the terminal's font came from the workbench's own server"
                assert "still open" not in login, "the server's saved session was offered"

                await page.focus("#terminal .xterm-helper-textarea")  # a click would hit a field
                await page.keyboard.type("super01", delay=30)
                await screen_until(page, lambda s: "super01" in s, "the user typed")
                await page.keyboard.press("Enter")
                await page.keyboard.type("demo1234", delay=30)
                await screen_until(page, lambda s: "•" * 8 in s, "the password typed")
                await page.keyboard.press("Enter")
                await screen_until(
                    page, lambda s: "Log in to your window" not in s and s.strip(), "a login"
                )

                issued = await terminal.post(
                    "/api/v1/tickets", json={"service_item": "GA-001"}, headers=key()
                )
                assert issued.status_code == 201, issued.text
                number = issued.json()["number"]
                called = await clerk.post("/api/v1/windows/W01/call-next", headers=key())
                assert called.status_code == 200, called.text
                assert called.json()["number"] == number

                board = await screen_until(page, lambda s: number in s, f"ticket {number}")
                row = next(line for line in board.splitlines() if number in line)
                assert "W01" in row, row  # at the window that called it
                await page.screenshot(path=str(tmp_path / "board.png"))
            finally:
                await browser.close()
    finally:
        server.stop()
        await clerk.aclose()
    assert outside == [], "the page asked for something outside the hall"
    keyring_after = await asyncio.to_thread(serving_keyring.read_text)
    assert keyring_after == keyring_before, "a browser session wrote the keyring"
