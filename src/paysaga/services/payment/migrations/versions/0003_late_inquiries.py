"""payments: follow-up inquiries after a timeout the provider never settled

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        "ALTER TABLE payments ADD COLUMN late_inquiry_at timestamptz, ADD COLUMN late_inquiry_until timestamptz,"
        " ADD CONSTRAINT payments_late_inquiry_of_a_timeout CHECK"
        " (late_inquiry_at IS NULL"
        " OR (status = 'FAILED' AND provider_txn_id IS NOT NULL AND late_inquiry_until IS NOT NULL))"
    )
    op.execute("CREATE INDEX payments_late_inquiry ON payments (late_inquiry_at) WHERE late_inquiry_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX payments_late_inquiry")
    op.execute(
        "ALTER TABLE payments DROP CONSTRAINT payments_late_inquiry_of_a_timeout,"
        " DROP COLUMN late_inquiry_at, DROP COLUMN late_inquiry_until"
    )
