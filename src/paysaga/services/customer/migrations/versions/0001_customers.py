"""customers, outbox

Revision ID: 0001
Revises:
"""

from alembic import op

from paysaga.platform import outbox
from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE customers (
            user_id          uuid        PRIMARY KEY,
            email            text        NOT NULL,
            email_normalized text        NOT NULL UNIQUE,
            password_hash    text        NOT NULL,
            name             text        NOT NULL,
            phone            text        NOT NULL,
            currency         char(3)     NOT NULL,
            created_at       timestamptz NOT NULL
        )
        """
    )
    execute_all(outbox.DDL)


def downgrade() -> None:
    execute_all(outbox.DROP_DDL)
    op.execute("DROP TABLE customers")
