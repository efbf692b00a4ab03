"""Shared fixtures: a real backend on a free 127.0.0.1 port over a temporary SQLite file (or, with
`--database postgresql`, a throw-away PostgreSQL database), seeded with the demo hall, and httpx
clients logged in as the demo accounts."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.db.engine import Database
from backend.db.provision import DEFAULT_ADMIN_URL, create_database, drop_database
from backend.hall.hall_file import HallFile, load_demo_hall
from backend.hall.seed import DEMO_PASSWORD, load_hall
from backend.runtime.clock import Clock
from backend.runtime.passwords import Passwords
from backend.runtime.settings import BackendSettings
from backend.server.app import prepare_database
from backend.server.embedded import EmbeddedServer

FAST_HASH = {"password_time_cost": 1, "password_memory_kib": 8 * 1024}
_DATABASE_KIND = ["sqlite"]
_CREATED_DATABASES: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("WORKBENCH_TEST_DATABASE", "sqlite"),
        help="engine behind the backend fixtures (PostgreSQL: $WORKBENCH_TEST_POSTGRES_URL, "
        "a throw-away database per backend)",
    )


def pytest_configure(config: pytest.Config) -> None:
    _DATABASE_KIND[0] = config.getoption("--database")
    config.addinivalue_line("markers", "sqlite_only: the test reads the SQLite file itself")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _DATABASE_KIND[0] != "postgresql":
        return
    skip = pytest.mark.skip(reason="reads the SQLite file directly")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


def postgres_admin_url() -> str:
    return os.environ.get("WORKBENCH_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def using_postgres() -> bool:
    return _DATABASE_KIND[0] == "postgresql"


def new_database_url(directory: Path, template: str | None = None) -> str:
    """A fresh database of the engine under test: empty, or a copy of `template`."""
    if not using_postgres():
        target = directory / "hall.db"
        if template is not None:
            source = sqlite3.connect(template.removeprefix("sqlite:///"))
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        return f"sqlite:///{target}"
    url = create_database(postgres_admin_url(), prefix="wbtest", template=template)
    _CREATED_DATABASES.append(url)
    return url


_DEMO_TEMPLATE: list[str] = []


def demo_hall_template() -> str:
    """A database seeded with the demo hall once per test process; fresh backends copy it
    (copying is several times faster than migrating and seeding)."""
    if not _DEMO_TEMPLATE:
        url = new_database_url(Path(tempfile.mkdtemp(prefix="wb-template-")))
        _seed(url, load_demo_hall())
        _DEMO_TEMPLATE.append(url)
    return _DEMO_TEMPLATE[0]


def _seed(url: str, hall_file: HallFile) -> None:
    db = Database(url)
    try:
        prepare_database(db)
        passwords = Passwords(
            time_cost=FAST_HASH["password_time_cost"], memory_kib=FAST_HASH["password_memory_kib"]
        )
        db.run_write(load_hall, hall_file, passwords, None)
    finally:
        db.close()


@pytest.fixture(scope="session", autouse=True)
def _drop_throwaway_databases() -> Iterator[None]:
    yield
    for url in _CREATED_DATABASES:
        drop_database(url, postgres_admin_url())


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the developer's own config, data and keyring out of the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    for name in ("WORKBENCH_DATABASE_URL",):
        monkeypatch.delenv(name, raising=False)


def seeded_settings(
    directory: Path, hall_file: HallFile | None = None, **overrides: Any
) -> BackendSettings:
    if hall_file is None:
        url = new_database_url(directory, template=demo_hall_template())
    else:
        url = new_database_url(directory)
        _seed(url, hall_file)
    return BackendSettings(database_url=url, **{**FAST_HASH, **overrides})


class Backend:
    """A running backend and helpers to log in to it."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.server = server
        self.base_url = server.base_url
        self.clock = server.clock
        self.settings = server.settings

    async def login(self, username: str, window: str | None = None, **kw: Any) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.base_url, timeout=30.0, **kw)
        body: dict[str, Any] = {"username": username, "password": DEMO_PASSWORD}
        if window:
            body["window"] = window
        response = await client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        return client

    def anonymous(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30.0)


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """One backend for the whole session (tests must not depend on its queue being empty)."""
    settings = seeded_settings(tmp_path_factory.mktemp("backend"))
    with EmbeddedServer(settings) as server:
        yield Backend(server)


@pytest.fixture
def fresh_backend(tmp_path: Path) -> Iterator[Backend]:
    """A backend of its own, for tests that need an empty queue or move the clock."""
    settings = seeded_settings(tmp_path)
    with EmbeddedServer(settings, clock=Clock()) as server:
        yield Backend(server)


@pytest.fixture
async def terminal(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("terminal01")
    yield client
    await client.aclose()
