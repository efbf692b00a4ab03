"""The app ends when its terminal goes away (issue 24, item 10): on end of file from the terminal
as well as on SIGHUP, and an exit that cannot complete still ends the process within a few
seconds, its outbox intact; `make demo` in tmux is gone soon after its session is killed."""

from __future__ import annotations

import os
import pty
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tty
from pathlib import Path

import pytest

from api_client.mutations import Mutation
from screens.hangup import EXIT_GRACE_SECONDS, HANGUP_EXIT_CODE, TerminalWatch
from workbench.outbox_db import OutboxDB

ROOT = Path(__file__).resolve().parents[2]


def test_a_terminal_that_hung_up_is_gone_at_once() -> None:
    main, child = pty.openpty()
    try:
        watch = TerminalWatch(child)
        assert not watch.gone()
        os.close(main)
        main = -1
        assert watch.gone()
    finally:
        os.close(child)
        if main >= 0:
            os.close(main)


def test_stdin_readable_check_after_check_is_end_of_file() -> None:
    """Textual's input thread reads whatever arrives within 0.1 s: input still unread at three
    checks a second apart is an end of file it spins on (here: input nobody reads)."""
    main, child = pty.openpty()
    tty.setraw(child)  # as Textual sets it: every byte readable at once
    try:
        watch = TerminalWatch(child, readable_checks=3)
        os.write(main, b"x")
        time.sleep(0.1)
        assert [watch.gone(), watch.gone()] == [False, False]
        os.read(child, 16)  # read in between: not end of file, the count starts again
        assert not watch.gone()
        os.write(main, b"y")
        time.sleep(0.1)
        assert [watch.gone(), watch.gone(), watch.gone()] == [False, False, True]
    finally:
        os.close(main)
        os.close(child)


STUCK_APP = """
import sys, time
from pathlib import Path
from screens.app import WorkbenchApp
from workbench.settings import WorkbenchSettings

outbox, marker = Path(sys.argv[1]), Path(sys.argv[2])

class StuckOnExit(WorkbenchApp):
    async def on_unmount(self) -> None:
        await super().on_unmount()
        time.sleep(120)  # a shutdown that never completes, the event loop blocked

settings = WorkbenchSettings(
    server_url="http://127.0.0.1:9", outbox_path=outbox, idle_lock_minutes=0
)
app = StuckOnExit(settings)
app.hangup_cleanups.append(marker.unlink)
app.run()
"""


def test_an_exit_that_hangs_after_a_hang_up_still_ends_the_process(tmp_path: Path) -> None:
    outbox_path, marker = tmp_path / "outbox.sqlite3", tmp_path / "temp-file"
    marker.write_text("the demo's temporary files")
    outbox = OutboxDB(outbox_path)
    outbox.add(
        Mutation("POST", "/api/v1/x", label="kept"), key="k1", owner=None, now=1, not_before=1
    )
    outbox.close()
    script = tmp_path / "stuck.py"
    script.write_text(STUCK_APP)
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(script), str(outbox_path), str(marker)],
        stdin=child,
        stdout=child,
        stderr=child,
        env={**os.environ, "TERM": "xterm-256color"},
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(child)
    try:
        screen = b""
        deadline = time.monotonic() + 60
        while b"Log in" not in screen and time.monotonic() < deadline:
            screen += _read(main)
        assert b"Log in" in screen
        process.send_signal(signal.SIGHUP)
        hung_up = time.monotonic()
        while process.poll() is None and time.monotonic() - hung_up < EXIT_GRACE_SECONDS + 10:
            _read(main)
        took = time.monotonic() - hung_up
        assert process.returncode == HANGUP_EXIT_CODE, (process.returncode, took)
        assert took < EXIT_GRACE_SECONDS + 5
        assert not marker.exists()  # the cleanups ran before the process was ended
        with sqlite3.connect(outbox_path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert db.execute("SELECT label FROM outbox").fetchall() == [("kept",)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)


def _read(fd: int) -> bytes:
    import select

    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:
        time.sleep(0.1)
        return b""


# -- `make demo` in tmux, as the tester ran it ---------------------------------------------


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        for child in children.read_text().split() if children.exists() else []:
            found.append(int(child))
            stack.append(int(child))
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed here")
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="finds the demo's process in /proc")
def test_make_demo_in_tmux_is_gone_when_its_session_is_killed(tmp_path: Path) -> None:
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    env = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local/share",
        "XDG_STATE_HOME": home / ".local/state",
        "XDG_CACHE_HOME": home / ".cache",
        "TMPDIR": scratch,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    exports = " ".join(f"{name}={value}" for name, value in env.items())
    socket = f"wbtest{os.getpid()}"
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    command = f"cd {ROOT} && env {exports} make demo"
    subprocess.run([*tmux, "new", "-d", "-s", "demo", "-x", "160", "-y", "48", command], check=True)
    try:
        deadline = time.monotonic() + 90
        screen = ""
        while "Log in" not in screen and time.monotonic() < deadline:
            time.sleep(0.5)
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", "demo"], capture_output=True, text=True
            ).stdout
        assert "Log in" in screen, screen
        pane = subprocess.run(
            [*tmux, "display", "-p", "-t", "demo", "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        demos = [p for p in _descendants(int(pane)) if "workbench demo" in _command(p)]
        assert demos, [_command(p) for p in _descendants(int(pane))]
        subprocess.run([*tmux, "kill-session", "-t", "demo"], check=True)
        killed = time.monotonic()
        while any(_command(p) for p in demos) and time.monotonic() - killed < 15:
            time.sleep(0.2)
        assert not any(_command(p) for p in demos), "workbench demo still runs"
        assert time.monotonic() - killed < EXIT_GRACE_SECONDS + 2
        assert list(scratch.iterdir()) == []  # no temp files left
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
