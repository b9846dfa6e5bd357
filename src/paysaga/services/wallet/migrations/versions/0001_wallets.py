"""wallets, inbox, outbox

Revision ID: 0001
Revises:
"""

from alembic import op

from paysaga.platform import inbox, outbox
from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE wallets (
            wallet_id  uuid        PRIMARY KEY,
            user_id    uuid        NOT NULL UNIQUE,
            currency   char(3)     NOT NULL,
            balance    bigint      NOT NULL DEFAULT 0 CHECK (balance >= 0),
            reserved   bigint      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT available_not_negative CHECK (reserved <= balance)
        )
        """
    )
    execute_all(inbox.DDL)
    execute_all(outbox.DDL)


def downgrade() -> None:
    execute_all(outbox.DROP_DDL)
    execute_all(inbox.DROP_DDL)
    op.execute("DROP TABLE wallets")
