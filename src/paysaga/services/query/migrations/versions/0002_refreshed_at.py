"""payments_view: when the read model last changed a row (wall clock, for the operators; `updated_at`
is the time of the events)

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE payments_view ADD COLUMN refreshed_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE payments_view DROP COLUMN refreshed_at")
