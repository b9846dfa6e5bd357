"""payment_history: one row per step of a payment (state changes, tries, answers), written with the
step; indexes for the operators' search and stuck payments

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE payment_history (
            payment_id     uuid        NOT NULL,
            step_id        bigint      GENERATED ALWAYS AS IDENTITY,
            at             timestamptz NOT NULL,
            kind           text        NOT NULL,
            from_status    text,
            to_status      text        NOT NULL,
            attempt        integer,
            error_code     text,
            error          text,
            next_action_at timestamptz,
            details        jsonb       NOT NULL DEFAULT '{}',
            PRIMARY KEY (payment_id, step_id)
        )
        """
    )
    op.execute("CREATE INDEX payments_user ON payments (user_id, created_at DESC, payment_id DESC)")
    op.execute("CREATE INDEX payments_created ON payments (created_at DESC, payment_id DESC)")
    # The stuck-payments list uses `payments_open` (migration 0005).


def downgrade() -> None:
    op.execute("DROP INDEX payments_created")
    op.execute("DROP INDEX payments_user")
    op.execute("DROP TABLE payment_history")
