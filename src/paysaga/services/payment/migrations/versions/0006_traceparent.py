"""payments: the W3C trace context the payment arrived in, which the worker's steps continue

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("ALTER TABLE payments ADD COLUMN traceparent text")


def downgrade() -> None:
    op.execute("ALTER TABLE payments DROP COLUMN traceparent")
