"""payment_history: one row per step of a payment (state changes, tries, answers), written with the
step; indexes for the operators' search and stuck payments

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


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
    # The same index as the stuck-payments gauge's (metrics): whichever migration comes first makes it.
    op.execute(
        "CREATE INDEX IF NOT EXISTS payments_open ON payments (created_at) WHERE status NOT IN ('COMPLETED', 'FAILED')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS payments_open")
    op.execute("DROP INDEX payments_created")
    op.execute("DROP INDEX payments_user")
    op.execute("DROP TABLE payment_history")
