"""claim indexes end with id

Call next orders today's waiting tickets by (weight, arrival, id) and appointments by (time, id);
without `id` in the index the database sorted every waiting ticket on each call. Claim next case
takes the oldest submitted unassigned case; PostgreSQL walked the primary key past every case
ever filed to find it, so a partial index of the claimable cases in id order is added.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WAITING = ["hall_id", "status", "day", "priority_weight", "queued_at"]
APPOINTMENTS = ["hall_id", "status", "day", "appointment_at"]
CLAIMABLE = "status = 'submitted' AND assignee_id IS NULL"


def _rebuild(waiting: list[str], appointments: list[str]) -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_waiting")
        batch_op.drop_index("ix_tickets_appointments")
        batch_op.create_index("ix_tickets_waiting", waiting, unique=False)
        batch_op.create_index("ix_tickets_appointments", appointments, unique=False)


def upgrade() -> None:
    _rebuild([*WAITING, "id"], [*APPOINTMENTS, "id"])
    op.create_index(
        "ix_cases_claimable",
        "cases",
        ["hall_id", "id"],
        unique=False,
        postgresql_where=sa.text(CLAIMABLE),
        sqlite_where=sa.text(CLAIMABLE),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_claimable", table_name="cases")
    _rebuild(WAITING, APPOINTMENTS)
