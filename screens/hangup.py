"""Provides what ends the app when its terminal goes away, and makes sure that end comes.

A terminal that goes away says so in one of three ways: SIGHUP (when the app leads the
terminal's session), a `tcgetattr` or `poll` that reports the hang-up, or only end of file:
stdin stays readable while every read returns nothing. Textual's input thread reads stdin
every 0.1 s and spins on that end of file, so stdin found readable at several checks a second
apart means end of file (any real input would have been read in between).

Ending the app the normal way stops `workbench demo`'s backend and removes its files; if that
end cannot complete (a stuck shutdown), `exit_within` ends the process anyway after a few
seconds, running the cleanups it was given. The outbox needs nothing: it is a SQLite file whose
every change is committed before it counts, and SQLite recovers an interrupted write from its
journal when it next opens the file.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from collections.abc import Callable, Iterable

__all__ = [
    "EXIT_GRACE_SECONDS",
    "HANGUP_EXIT_CODE",
    "READABLE_CHECKS",
    "TerminalWatch",
    "exit_within",
]

HANGUP_EXIT_CODE = 128 + int(getattr(signal, "SIGHUP", 1))
READABLE_CHECKS = 3
"""Checks in a row that find stdin readable before that is taken as end of file."""
EXIT_GRACE_SECONDS = 5.0
"""How long the normal exit after a hang-up may take before the process is ended anyway."""

_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL if hasattr(select, "poll") else 0


class TerminalWatch:
    """Looks at the terminal (its stdin file descriptor) once per `check` call."""

    def __init__(self, fd: int, *, readable_checks: int = READABLE_CHECKS) -> None:
        self.fd = fd
        self.readable_checks = readable_checks
        self.readable_in_a_row = 0

    def gone(self) -> bool:
        """Whether the terminal has gone away (hung up, or at end of file)."""
        import termios  # POSIX only, as the rest of this module

        try:
            termios.tcgetattr(self.fd)
        except (termios.error, OSError, ValueError):
            return True
        events = self._poll()
        if events & _GONE:
            return True
        self.readable_in_a_row = self.readable_in_a_row + 1 if events & select.POLLIN else 0
        return self.readable_in_a_row >= self.readable_checks

    def _poll(self) -> int:
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        try:
            return sum(events for _fd, events in poller.poll(0))
        except OSError:
            return select.POLLERR


def exit_within(
    seconds: float, cleanups: Iterable[Callable[[], object]], code: int = HANGUP_EXIT_CODE
) -> threading.Timer:
    """End the process after `seconds` unless it has ended by then, running `cleanups` first
    (each on its own: one that fails does not stop the others)."""
    pending = list(cleanups)

    def end_now() -> None:
        for cleanup in pending:
            with contextlib.suppress(Exception):
                cleanup()
        os._exit(code)

    timer = threading.Timer(seconds, end_now)
    timer.daemon = True
    timer.name = "exit-watchdog"
    timer.start()
    return timer
