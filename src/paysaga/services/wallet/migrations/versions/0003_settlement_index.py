"""settled reservations by time, for the reconciliation's settlements list

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX reservations_settled ON reservations (settled_at, payment_id) WHERE settled_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX reservations_settled")
