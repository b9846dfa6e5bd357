"""reconciliation runs: each run of the reconciliation job, its window and the differences it found

Revision ID: 0002
Revises: 0001
"""

from paysaga.platform.migrations import execute_all

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    execute_all(
        (
            """
            CREATE TABLE reconciliation_runs (
                run_id       bigserial   PRIMARY KEY,
                trigger      text        NOT NULL CHECK (trigger IN ('schedule', 'operator')),
                operator_id  uuid        REFERENCES operators (operator_id),
                started_at   timestamptz NOT NULL DEFAULT now(),
                finished_at  timestamptz,
                window_start timestamptz NOT NULL,
                window_end   timestamptz NOT NULL,
                status       text        NOT NULL CHECK (status IN ('running', 'clean', 'differences', 'failed')),
                funds        jsonb       NOT NULL DEFAULT '[]',
                payments     jsonb       NOT NULL DEFAULT '[]',
                error        text
            )
            """,
        )
    )


def downgrade() -> None:
    execute_all(("DROP TABLE reconciliation_runs",))
