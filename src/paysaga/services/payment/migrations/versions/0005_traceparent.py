"""payments: the W3C trace context the payment arrived in, which the worker's steps continue

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute("ALTER TABLE payments ADD COLUMN traceparent text")


def downgrade() -> None:
    op.execute("ALTER TABLE payments DROP COLUMN traceparent")
