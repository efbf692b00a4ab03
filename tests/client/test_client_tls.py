"""TLS: the client verifies certificates, and trusts a hall's own CA only when told to."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api_client import Client, RetryPolicy
from api_client.errors import NetworkError
from backend.server.app import create_app
from backend.server.embedded import free_port
from tests.conftest import seeded_settings

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_hall_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A hall CA and a server certificate for 127.0.0.1 signed by it."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=Hall CA", cwd=directory)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1", cwd=directory)  # fmt: skip
    (directory / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
            cwd=directory)  # fmt: skip
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ca, cert, key = make_hall_ca(tmp_path)
    port = free_port()
    config = uvicorn.Config(
        create_app(seeded_settings(tmp_path)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"https://127.0.0.1:{port}", ca
    server.should_exit = True
    thread.join(timeout=10)


async def test_an_unknown_ca_is_refused(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    async with Client(url, retry=RetryPolicy(attempts=1)) as api:
        with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED"):
            await api.healthz()


async def test_the_halls_ca_file_is_trusted(tls_server: tuple[str, Path]) -> None:
    url, ca = tls_server
    async with Client(url, ca_file=ca) as api:
        assert (await api.healthz())["status"] == "ok"
