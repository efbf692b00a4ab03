"""Provides `Announcer`: speaks the display's calls one after another with espeak-ng.

Calls go into a queue read by one background thread, which runs the speech engine to completion
for each: a call being spoken is never cut off by the next, and calls come out in the order they
were made. Without an engine (none installed, or voice turned off) nothing is spoken and that is
logged once; the display works the same.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ENGINE", "VOICES", "Announcement", "Announcer", "spell"]

ENGINE = "espeak-ng"
VOICES = {"zh": "cmn", "en": "en"}
"""espeak-ng voice per interface language (cmn: Mandarin)."""
TIMEOUT_SECONDS = 30.0
"""A call longer than this is not speech: the engine is hung, and is stopped."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Announcement:
    """One finished announcement: what was said, and how the engine ended (0: spoken)."""

    text: str
    language: str
    returncode: int


def spell(ticket: str) -> str:
    """`GA023` → `G A 0 2 3`: read out character by character, as halls announce numbers."""
    return " ".join(ticket)


class Announcer:
    """Say texts in order on a background thread; `close()` waits for the queue to empty."""

    def __init__(
        self,
        *,
        engine: str | None = None,
        extra_args: Sequence[str] = (),
        on_spoken: Callable[[Announcement], None] | None = None,
    ) -> None:
        self.engine = engine if engine is not None else (shutil.which(ENGINE) or "")
        self.extra_args = tuple(extra_args)
        self.on_spoken = on_spoken
        self.spoken: list[Announcement] = []
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._warned = False
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0

    @property
    def available(self) -> bool:
        return bool(self.engine)

    def say(self, text: str, language: str) -> bool:
        """Queue `text`; False (and nothing queued) when there is no speech engine."""
        if not self.available:
            self._warn_once(f"{ENGINE} is not installed: calls are shown, not spoken")
            return False
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
                self._thread.start()
        with self._idle:
            self._pending += 1
        self._queue.put((text, language))
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has been spoken; False when `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Let the queued calls finish, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def command(self, text: str, language: str) -> list[str]:
        return [self.engine, "-v", VOICES.get(language, "en"), *self.extra_args, text]

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            text, language = item
            returncode = self._speak(text, language)
            done = Announcement(text, language, returncode)
            self.spoken.append(done)
            if self.on_spoken is not None:
                self.on_spoken(done)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _speak(self, text: str, language: str) -> int:
        try:
            finished = subprocess.run(
                self.command(text, language),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._warn_once(f"{ENGINE} could not speak: {type(exc).__name__}")
            return -1
        if finished.returncode != 0:
            self._warn_once(f"{ENGINE} ended with code {finished.returncode}")
        return finished.returncode

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning(message)
