"""materials have a kind

What a material is (id_card, business_licence, certificate, form, other) decides the facts the
clerk types from it and the checks they get: a birth certificate is not checked for expiry.
Materials loaded before this have the kind "other" until their hall file is loaded again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="other")
        )


def downgrade() -> None:
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.drop_column("kind")
