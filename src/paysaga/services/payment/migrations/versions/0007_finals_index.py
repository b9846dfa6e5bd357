"""payments: final ones by completion time, for the reconciliation's finals list

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute("CREATE INDEX payments_final ON payments (completed_at, payment_id) WHERE completed_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX payments_final")
