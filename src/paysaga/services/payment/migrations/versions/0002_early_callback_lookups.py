"""early callbacks: when the orphan sweep may look one up again

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE early_callbacks ADD COLUMN next_lookup_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE early_callbacks DROP COLUMN next_lookup_at")
