"""login and registration throttling: fixed-window counters shared by every BFF instance

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE auth_throttle (
            scope        text        NOT NULL,
            subject      text        NOT NULL,
            window_start timestamptz NOT NULL,
            hits         integer     NOT NULL CHECK (hits > 0),
            expires_at   timestamptz NOT NULL,
            PRIMARY KEY (scope, subject, window_start)
        )
        """
    )
    op.execute("CREATE INDEX auth_throttle_expires_at ON auth_throttle (expires_at)")


def downgrade() -> None:
    op.execute("DROP TABLE auth_throttle")
