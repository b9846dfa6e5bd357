"""idempotency keys of client requests

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            user_id         uuid        NOT NULL,
            operation       text        NOT NULL,
            key             text        NOT NULL,
            request_hash    text        NOT NULL,
            resource_id     uuid        NOT NULL UNIQUE,
            request         jsonb       NOT NULL,
            response_status integer,
            response_body   jsonb,
            created_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, operation, key)
        )
        """
    )
    op.execute("CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
