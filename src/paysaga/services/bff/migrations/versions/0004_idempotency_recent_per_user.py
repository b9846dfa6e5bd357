"""a user's newest accepted requests first: the payments the BFF merges into the first history page

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idempotency_keys_recent ON idempotency_keys (user_id, operation, created_at DESC)"
        " WHERE response_status IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idempotency_keys_recent")
