"""payments read model, inbox

Revision ID: 0001
Revises:
"""

from alembic import op

from paysaga.platform import inbox
from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE payments_view (
            payment_id      uuid        PRIMARY KEY,
            user_id         uuid,
            wallet_id       uuid,
            status          text        NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
            amount          bigint,
            currency        char(3),
            recipient       jsonb,
            provider_txn_id text,
            error_code      text,
            created_at      timestamptz,
            status_at       timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX payments_view_history ON payments_view (user_id, created_at DESC, payment_id DESC)"
        " WHERE user_id IS NOT NULL"
    )
    execute_all(inbox.DDL)


def downgrade() -> None:
    execute_all(inbox.DROP_DDL)
    op.execute("DROP TABLE payments_view")
