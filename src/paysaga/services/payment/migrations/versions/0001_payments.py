"""payments, early callbacks, reconciliation cases, inbox, outbox

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
        CREATE TABLE payments (
            payment_id      uuid        PRIMARY KEY,
            user_id         uuid        NOT NULL,
            wallet_id       uuid        NOT NULL,
            amount          bigint      NOT NULL CHECK (amount > 0),
            currency        char(3)     NOT NULL,
            recipient       jsonb       NOT NULL,
            status          text        NOT NULL
                CHECK (status IN ('RECEIVED', 'CHECKED', 'SUBMITTED', 'COMPLETED', 'FAILED')),
            provider_txn_id text        UNIQUE,
            error_code      text,
            attempts        integer     NOT NULL DEFAULT 0,
            last_error      text,
            next_attempt_at timestamptz,
            lease_until     timestamptz,
            created_at      timestamptz NOT NULL,
            received_at     timestamptz NOT NULL DEFAULT now(),
            submitted_at    timestamptz,
            deadline_at     timestamptz NOT NULL,
            completed_at    timestamptz,
            updated_at      timestamptz NOT NULL DEFAULT now(),
            CHECK ((status IN ('COMPLETED', 'FAILED')) = (completed_at IS NOT NULL)),
            CHECK (status <> 'SUBMITTED' OR provider_txn_id IS NOT NULL)
        )
        """
    )
    op.execute("CREATE INDEX payments_due ON payments (next_attempt_at) WHERE next_attempt_at IS NOT NULL")
    op.execute(
        """
        CREATE TABLE early_callbacks (
            provider_txn_id text        NOT NULL,
            event_id        text        NOT NULL,
            status          text        NOT NULL CHECK (status IN ('SUCCESS', 'FAILED')),
            received_at     timestamptz NOT NULL,
            PRIMARY KEY (provider_txn_id, event_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE reconciliation_cases (
            case_id         bigserial   PRIMARY KEY,
            kind            text        NOT NULL,
            payment_id      uuid        NOT NULL REFERENCES payments (payment_id),
            provider_txn_id text        NOT NULL,
            payment_status  text        NOT NULL,
            error_code      text,
            callback_status text        NOT NULL,
            opened_at       timestamptz NOT NULL DEFAULT now(),
            resolved_at     timestamptz,
            resolution      text,
            UNIQUE (payment_id, kind)
        )
        """
    )
    execute_all(inbox.DDL)
    execute_all(outbox.DDL)


def downgrade() -> None:
    execute_all(outbox.DROP_DDL)
    execute_all(inbox.DROP_DDL)
    op.execute("DROP TABLE reconciliation_cases")
    op.execute("DROP TABLE early_callbacks")
    op.execute("DROP TABLE payments")
