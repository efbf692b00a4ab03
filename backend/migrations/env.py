"""Alembic environment: runs the migrations on the connection `backend.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from backend.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` on the command line gets here
    raise RuntimeError(
        "the migrations run when `workbench serve` starts, or through backend.db.migrate"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
