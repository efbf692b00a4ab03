"""Provides `ServerProcess`: the backend as a child process (`workbench serve`), for tests that
kill it or need real parallelism (two API instances)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from backend.server.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
FAST_HASH_ENV = {"WORKBENCH_PASSWORD_TIME_COST": "1", "WORKBENCH_PASSWORD_MEMORY_KIB": "8192"}


class ServerProcess:
    """`workbench serve` on a free port over `database_url`."""

    def __init__(self, database_url: str, port: int | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        command = [sys.executable, "-m", "workbench.cli", "serve", "--database", self.database_url]
        command += ["--port", str(self.port), "--log-level", "warning"]
        env = {**os.environ, **FAST_HASH_ENV}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the backend process ended with code {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("the backend process did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
