"""e-licences unique per holder

A marriage certificate or a household register carries one number for several holders (the two
spouses, the household's members); each holder has a licence of their own. The unique
constraint was (type, number), so loading the second holder's replaced the first's.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("e_licences", schema=None) as batch_op:
        batch_op.drop_constraint("uq_e_licences_type_number", type_="unique")
        batch_op.create_unique_constraint(
            "uq_e_licences_type_number_holder_id", ["type", "number", "holder_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("e_licences", schema=None) as batch_op:
        batch_op.drop_constraint("uq_e_licences_type_number_holder_id", type_="unique")
        batch_op.create_unique_constraint("uq_e_licences_type_number", ["type", "number"])
