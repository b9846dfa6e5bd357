"""subscriptions, payments, deliveries, delivery attempts, inbox

Revision ID: 0001
Revises:
"""

from paysaga.platform import inbox
from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None

DDL = (
    # Merchant endpoints: webhooks for payments to `account_number` go to `url`, signed with `secret`.
    """
    CREATE TABLE subscriptions (
        subscription_id uuid        PRIMARY KEY,
        account_number  text        NOT NULL CHECK (account_number ~ '^[0-9]{20}$'),
        url             text        NOT NULL CHECK (url ~ '^https?://'),
        secret          text        NOT NULL CHECK (length(secret) >= 16),
        created_at      timestamptz NOT NULL DEFAULT now(),
        deleted_at      timestamptz
    )
    """,
    "CREATE UNIQUE INDEX subscriptions_active_endpoint ON subscriptions (account_number, url) WHERE deleted_at IS NULL",
    # What the payment-events told about a payment; the first final outcome is kept for good.
    """
    CREATE TABLE payments (
        payment_id      text        PRIMARY KEY,
        account_number  text,
        amount          bigint      CHECK (amount > 0),
        currency        char(3),
        initiated_at    timestamptz,
        outcome         text        CHECK (outcome IN ('COMPLETED', 'FAILED')),
        provider_txn_id text,
        error_code      text,
        completed_at    timestamptz,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CHECK ((account_number IS NULL) = (amount IS NULL) AND (amount IS NULL) = (currency IS NULL)),
        CHECK ((outcome IS NULL) = (completed_at IS NULL))
    )
    """,
    # One webhook per (payment, subscription): exactly one outcome per payment is ever delivered.
    """
    CREATE TABLE deliveries (
        delivery_id      uuid        PRIMARY KEY,
        payment_id       text        NOT NULL REFERENCES payments (payment_id),
        subscription_id  uuid        NOT NULL REFERENCES subscriptions (subscription_id),
        event_type       text        NOT NULL,
        body             text        NOT NULL,
        status           text        NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
        attempts         integer     NOT NULL DEFAULT 0,
        round_attempts   integer     NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz,
        give_up_at       timestamptz NOT NULL,
        lease_until      timestamptz,
        lease_token      uuid,
        last_attempt_at  timestamptz,
        last_status_code integer,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        delivered_at     timestamptz,
        dead_at          timestamptz,
        CONSTRAINT one_outcome_per_payment UNIQUE (payment_id, subscription_id),
        CHECK ((status = 'PENDING') = (next_attempt_at IS NOT NULL)),
        CHECK ((status = 'DELIVERED') = (delivered_at IS NOT NULL)),
        CHECK ((status = 'DEAD') = (dead_at IS NOT NULL))
    )
    """,
    "CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING'",
    "CREATE INDEX deliveries_subscription ON deliveries (subscription_id, created_at DESC)",
    # Every attempt made, successful or not.
    """
    CREATE TABLE delivery_attempts (
        attempt_id   bigserial        PRIMARY KEY,
        delivery_id  uuid             NOT NULL REFERENCES deliveries (delivery_id),
        attempted_at timestamptz      NOT NULL,
        duration_ms  double precision NOT NULL CHECK (duration_ms >= 0),
        status_code  integer,
        error        text,
        succeeded    boolean          NOT NULL,
        CHECK (succeeded = (error IS NULL))
    )
    """,
    "CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt_id)",
    *inbox.DDL,
)


def upgrade() -> None:
    execute_all(DDL)


def downgrade() -> None:
    execute_all(inbox.DROP_DDL)
    execute_all(
        (
            "DROP TABLE delivery_attempts",
            "DROP TABLE deliveries",
            "DROP TABLE payments",
            "DROP TABLE subscriptions",
        )
    )
