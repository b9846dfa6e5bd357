"""difference cases: one open case per difference the reconciliation job finds, until an operator
resolves it with a note

Revision ID: 0003
Revises: 0002
"""

from paysaga.platform.migrations import execute_all

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    execute_all(
        (
            """
            CREATE TABLE difference_cases (
                case_id         bigserial   PRIMARY KEY,
                kind            text        NOT NULL CHECK (kind IN (
                                    'FUNDS_MISMATCH', 'STATUS_MISMATCH', 'MISSING_IN_WALLET', 'MISSING_IN_PAYMENT')),
                subject         text        NOT NULL,
                evidence        jsonb       NOT NULL,
                opened_by_run   bigint      NOT NULL REFERENCES reconciliation_runs (run_id),
                last_seen_run   bigint      NOT NULL REFERENCES reconciliation_runs (run_id),
                opened_at       timestamptz NOT NULL DEFAULT now(),
                last_seen_at    timestamptz NOT NULL DEFAULT now(),
                resolved_at     timestamptz,
                resolved_by     uuid        REFERENCES operators (operator_id),
                resolution_note text,
                CONSTRAINT difference_cases_resolved CHECK (
                    (resolved_at IS NULL) = (resolved_by IS NULL) AND (resolved_at IS NULL) = (resolution_note IS NULL))
            )
            """,
            # A difference seen again while its case is open updates that case; once resolved, the
            # same difference found again opens a new one (the fix did not hold).
            "CREATE UNIQUE INDEX difference_cases_one_open ON difference_cases (kind, subject)"
            " WHERE resolved_at IS NULL",
        )
    )


def downgrade() -> None:
    execute_all(("DROP TABLE difference_cases",))
