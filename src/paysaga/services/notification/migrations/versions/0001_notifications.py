"""payments (what the events told), notifications (one per payment and channel), inbox

Revision ID: 0001
Revises:
"""

from alembic import op

from paysaga.platform import inbox
from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None


def upgrade() -> None:
    # Filled from PaymentInitiated (details) and PaymentCompleted/PaymentFailed (outcome), in
    # whatever order they arrive; a notification is written once both halves are known.
    op.execute(
        """
        CREATE TABLE payments (
            payment_id     text        PRIMARY KEY,
            user_id        text,
            amount         bigint      CHECK (amount > 0),
            currency       char(3),
            recipient_name text,
            outcome        text        CHECK (outcome IN ('PaymentCompleted', 'PaymentFailed')),
            error_code     text,
            completed_at   timestamptz,
            updated_at     timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE notifications (
            notification_id    bigserial   PRIMARY KEY,
            payment_id         text        NOT NULL REFERENCES payments (payment_id),
            channel            text        NOT NULL CHECK (channel IN ('SMS', 'PUSH')),
            user_id            text        NOT NULL,
            event_type         text        NOT NULL CHECK (event_type IN ('PaymentCompleted', 'PaymentFailed')),
            language           text        NOT NULL,
            title              text        NOT NULL,
            message            text        NOT NULL,
            status             text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
            attempts           integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            last_error         text,
            next_attempt_at    timestamptz,
            lease_until        timestamptz,
            lease_token        uuid,
            gateway_message_id text,
            created_at         timestamptz NOT NULL DEFAULT now(),
            updated_at         timestamptz NOT NULL DEFAULT now(),
            sent_at            timestamptz,
            UNIQUE (payment_id, channel),
            CHECK ((status = 'PENDING') = (next_attempt_at IS NOT NULL)),
            CHECK ((status = 'SENT') = (sent_at IS NOT NULL))
        )
        """
    )
    op.execute("CREATE INDEX notifications_due ON notifications (channel, next_attempt_at) WHERE status = 'PENDING'")
    execute_all(inbox.DDL)


def downgrade() -> None:
    execute_all(inbox.DROP_DDL)
    op.execute("DROP TABLE notifications")
    op.execute("DROP TABLE payments")
