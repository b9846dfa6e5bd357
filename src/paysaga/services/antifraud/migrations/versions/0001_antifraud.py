"""checks, known payments (velocity), outcomes, blocklist, inbox

Revision ID: 0001
Revises:
"""

from paysaga.platform import inbox
from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None

DDL = (
    # Every decision made; payment_id makes Check idempotent.
    """
    CREATE TABLE checks (
        payment_id        text             PRIMARY KEY,
        user_id           text             NOT NULL,
        wallet_id         text             NOT NULL,
        amount            bigint           NOT NULL CHECK (amount > 0),
        currency          char(3)          NOT NULL,
        recipient_account text             NOT NULL,
        recipient_bic     text             NOT NULL,
        recipient_name    text             NOT NULL,
        window_end        timestamptz      NOT NULL,
        decision          text             NOT NULL CHECK (decision IN ('ALLOW', 'DENY')),
        reasons           text[]           NOT NULL,
        score             double precision NOT NULL CHECK (score >= 0 AND score <= 1),
        velocity_count    integer          NOT NULL,
        velocity_sum      bigint           NOT NULL,
        checked_at        timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT deny_has_reason CHECK ((decision = 'DENY') = (cardinality(reasons) > 0))
    )
    """,
    "CREATE INDEX checks_user ON checks (user_id, checked_at DESC)",
    "CREATE INDEX checks_checked_at ON checks (checked_at DESC)",
    # The payments the service knows of, once each: from PaymentInitiated or from a Check.
    """
    CREATE TABLE known_payments (
        payment_id  text        PRIMARY KEY,
        user_id     text        NOT NULL,
        amount      bigint      NOT NULL CHECK (amount > 0),
        currency    char(3)     NOT NULL,
        created_at  timestamptz NOT NULL,
        learned_from text       NOT NULL CHECK (learned_from IN ('event', 'check')),
        recorded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX known_payments_velocity ON known_payments (user_id, created_at)",
    # Final states from PaymentCompleted / PaymentFailed (may arrive before what they finish).
    """
    CREATE TABLE payment_outcomes (
        payment_id      text        PRIMARY KEY,
        status          text        NOT NULL CHECK (status IN ('COMPLETED', 'FAILED')),
        error_code      text,
        provider_txn_id text,
        completed_at    timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE blocked_accounts (
        account_number text        PRIMARY KEY,
        reason         text,
        source         text        NOT NULL CHECK (source IN ('api', 'seed')),
        blocked_at     timestamptz NOT NULL DEFAULT now()
    )
    """,
)

DROP_DDL = (
    "DROP TABLE blocked_accounts",
    "DROP TABLE payment_outcomes",
    "DROP TABLE known_payments",
    "DROP TABLE checks",
)


def upgrade() -> None:
    execute_all(DDL)
    execute_all(inbox.DDL)


def downgrade() -> None:
    execute_all(inbox.DROP_DDL)
    execute_all(DROP_DDL)
