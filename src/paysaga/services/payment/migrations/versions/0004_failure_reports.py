"""payments: when a FAILED callback reported a failure the provider has not confirmed yet

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("ALTER TABLE payments ADD COLUMN failure_reported_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE payments DROP COLUMN failure_reported_at")
