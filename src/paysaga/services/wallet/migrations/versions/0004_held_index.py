"""reservations still held, oldest first: the funds an operator's stuck-payments view looks for

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("CREATE INDEX reservations_held ON reservations (created_at, payment_id) WHERE status = 'RESERVED'")


def downgrade() -> None:
    op.execute("DROP INDEX reservations_held")
