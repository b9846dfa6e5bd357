"""reservations, top-ups, wallet ledger

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE reservations (
            payment_id   uuid        PRIMARY KEY,
            wallet_id    uuid        NOT NULL REFERENCES wallets (wallet_id),
            amount       bigint      NOT NULL CHECK (amount > 0),
            currency     char(3)     NOT NULL,
            recipient    jsonb       NOT NULL,
            status       text        NOT NULL CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED')),
            created_at   timestamptz NOT NULL,
            settled_at   timestamptz
        )
        """
    )
    op.execute("CREATE INDEX reservations_wallet ON reservations (wallet_id, created_at DESC)")
    op.execute(
        """
        CREATE TABLE top_ups (
            top_up_id  uuid        PRIMARY KEY,
            wallet_id  uuid        NOT NULL REFERENCES wallets (wallet_id),
            amount     bigint      NOT NULL CHECK (amount > 0),
            created_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE wallet_ledger (
            entry_id       bigserial   PRIMARY KEY,
            wallet_id      uuid        NOT NULL REFERENCES wallets (wallet_id),
            kind           text        NOT NULL CHECK (kind IN ('TOP_UP', 'RESERVE', 'RELEASE', 'PAYOUT')),
            amount         bigint      NOT NULL CHECK (amount > 0),
            balance_after  bigint      NOT NULL,
            reserved_after bigint      NOT NULL,
            reference      uuid        NOT NULL,
            created_at     timestamptz NOT NULL DEFAULT now(),
            UNIQUE (reference, kind)
        )
        """
    )
    op.execute("CREATE INDEX wallet_ledger_wallet ON wallet_ledger (wallet_id, entry_id)")


def downgrade() -> None:
    op.execute("DROP TABLE wallet_ledger")
    op.execute("DROP TABLE top_ups")
    op.execute("DROP TABLE reservations")
