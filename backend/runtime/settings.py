"""Provides the backend's settings, read from `WORKBENCH_`-prefixed environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def platform_data_dir() -> Path:
    """The platform's data directory of the server (not created here)."""
    return Path(user_data_dir("service-workbench", appauthor=False))


def default_database_url() -> str:
    """The SQLite file in the platform's data directory (created on first use)."""
    data_dir = platform_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'workbench.db'}"


def unsupported_database_url(url: str) -> str | None:
    """What is wrong with `url` as the backend's database (None: nothing), before connecting:
    it must parse, name SQLite or PostgreSQL, and a synchronous driver that is installed (the
    backend runs its queries on thread pools)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "not a database URL (e.g. postgresql+psycopg://USER@HOST:5432/DB or sqlite:///FILE)"
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        return f"{parsed.get_backend_name()!r} is not supported: use PostgreSQL or SQLite"
    try:
        dialect = parsed.get_dialect()
        if getattr(dialect, "is_async", False):
            return (
                f"{parsed.drivername!r} is an asyncio driver: the backend runs its queries on "
                "thread pools, use postgresql+psycopg://"
            )
        dialect.import_dbapi()
    except (NoSuchModuleError, ImportError) as exc:
        return f"the driver of {parsed.drivername!r} is not available ({exc})"
    return None


class BackendSettings(BaseSettings):
    """Settings of one API instance."""

    model_config = SettingsConfigDict(env_prefix="WORKBENCH_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    """SQLAlchemy URL; a SQLite file by default."""

    @field_validator("database_url")
    @classmethod
    def _a_supported_database(cls, url: str) -> str:
        problem = unsupported_database_url(url)
        if problem:
            raise ValueError(problem)
        return url

    token_ttl_minutes: int = Field(default=12 * 60, ge=1)
    """How long a login token stays valid."""
    lockout_threshold: int = Field(default=5, ge=1)
    """Failed logins in a row that lock an account."""
    lockout_minutes: int = Field(default=15, ge=1)
    """How long a locked account stays locked."""
    idempotency_retention_hours: int = Field(default=48, ge=24)
    """How long idempotency keys and their stored responses are kept."""
    idempotency_stale_seconds: int = Field(default=60, ge=1)
    """An in-flight key older than this is taken over (its request died)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Requests with larger bodies are refused with 413."""
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0)
    """Interval of the comment lines that keep event streams alive."""
    opentelemetry: bool = False
    """FastAPI's native OpenTelemetry instrumentation (traces, metrics, logs to the globally
    configured providers). Off by default: Prometheus metrics and structured logs are built in,
    and the per-request check of the providers costs time on every claim."""
    keep_alive_seconds: float = Field(default=75.0, gt=0)
    """How long an idle keep-alive connection stays open. Longer than clients keep theirs
    (httpx: 5 s), so the server never closes a connection at the moment a client reuses it."""
    sse_poll_seconds: float = Field(default=1.0, gt=0)
    """How often the instance looks at the event table without being woken (for its streams)."""
    event_tail_events: int = Field(default=10_000, ge=10)
    """How many of the newest events an instance holds in memory for its event streams (about
    1 KB each); a stream resuming from further back reads the table until it is within reach."""
    password_time_cost: int = Field(default=2, ge=1)
    """Argon2id passes."""
    password_memory_kib: int = Field(default=19 * 1024, ge=1024)
    """Argon2id memory per hash (OWASP's minimum is 19 MiB)."""
    read_threads: int = Field(default=4, ge=1)
    """Threads serving database reads (the "threads" executor)."""
    write_threads: int = Field(default=1, ge=1, le=32)
    """PostgreSQL: threads each committing a batch of the writes waiting (group commit). One
    thread makes big batches (one commit and one lock of the event chain's head for many
    changes) and leaves the fewest claimed-but-uncommitted rows for other clerks' claims to
    step over; raise it when the database is far away (each batch then waits longer on the
    network). SQLite always has one."""
    principal_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    """How long a verified token is trusted without a look-up (0: look up every request).
    A logout on another API instance reaches this one by NOTIFY at once; should that be lost,
    it takes effect here within this time."""
    db_executor: Literal["auto", "inline", "threads"] = "auto"
    """Where SQL runs: "inline" on the event loop (SQLite's default), "threads" on pools."""
    max_document_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    """The largest document `PUT /api/v1/documents/{sha256}` takes (its own body limit)."""
    max_document_pages: int = Field(default=500, ge=1)
    """A PDF with more pages is refused."""
    documents_dir: Path | None = None
    """Where the file store keeps documents (SQLite) and every instance stages uploads; by
    default `documents/` in the data directory."""
    document_key: SecretStr | None = None
    """The documents' AES-256 key, base64 (32 bytes). Unset: the key file is used."""
    document_key_file: Path | None = None
    """The key file used when `document_key` is unset, generated once with mode 0600; by
    default `document.key` in the data directory. Never kept in the database."""

    def data_dir(self) -> Path:
        """The directory of the SQLite file, or the platform's data directory (PostgreSQL, or a
        database in memory)."""
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).resolve().parent
        return platform_data_dir()
