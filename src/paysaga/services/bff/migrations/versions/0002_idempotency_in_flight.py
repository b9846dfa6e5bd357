"""idempotency keys: how many requests are executing under the key right now

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE idempotency_keys ADD COLUMN in_flight integer NOT NULL DEFAULT 0 CHECK (in_flight >= 0)")


def downgrade() -> None:
    op.execute("ALTER TABLE idempotency_keys DROP COLUMN in_flight")
