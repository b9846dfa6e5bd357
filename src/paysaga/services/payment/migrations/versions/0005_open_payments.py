"""payments: an index of the payments not final yet, by age (the stuck-payments gauge reads it every
few seconds; the table itself only grows)

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute("CREATE INDEX payments_open ON payments (created_at) WHERE status NOT IN ('COMPLETED', 'FAILED')")


def downgrade() -> None:
    op.execute("DROP INDEX payments_open")
