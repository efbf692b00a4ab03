"""Provides the schema migrations: upgrade to head on start, and a check that it is current."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

# The PostgreSQL advisory lock that instances starting at once take in turn to migrate the
# schema (an arbitrary constant: "wbmigrat" in ASCII, as a signed 64-bit number).
MIGRATION_LOCK_KEY = 0x77626D6967726174


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("backend") / "migrations"))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database schema to the newest migration (a no-op when it already is)."""
    upgrade_to(engine, "head")


def upgrade_to(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the migration lock while preparing the schema, so that instances started together
    on one PostgreSQL database migrate one after the other (the later ones find the schema
    current) instead of racing to create the same tables. SQLite needs none: its file is one
    process's (and its writers are serialised by the file lock)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return schema_revision(connection)


def schema_revision(conn: Connection) -> str | None:
    """The revision the database's schema is at (None before the first migration), read
    quietly: for `/readyz`, which load balancers probe every few seconds."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the schema and the database."""
    config = _config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
