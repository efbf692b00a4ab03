"""documents: their metadata, their sealed frames (PostgreSQL) and who refers to them

Issue 20: documents named by the SHA-256 of their bytes. `documents` holds what was sniffed
(media type, size, pages) on every engine; `document_frames` holds the sealed bytes on
PostgreSQL (the SQLite hall keeps them in files beside its database). The index on
`case_materials.sha256` finds the cases that refer to a document (who may read it).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_documents")),
    )
    op.create_table(
        "document_frames",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "seq", name=op.f("pk_document_frames")),
    )
    op.create_index(op.f("ix_case_materials_sha256"), "case_materials", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_materials_sha256"), table_name="case_materials")
    op.drop_table("document_frames")
    op.drop_table("documents")
