"""reconciliation cases: who resolved a case, and the operator's note

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.execute("ALTER TABLE reconciliation_cases RENAME COLUMN resolution TO resolution_note")
    op.execute("ALTER TABLE reconciliation_cases ADD COLUMN resolved_by text")
    op.execute(
        "ALTER TABLE reconciliation_cases ADD CONSTRAINT reconciliation_cases_resolved CHECK ("
        "(resolved_at IS NULL) = (resolved_by IS NULL) AND (resolved_at IS NULL) = (resolution_note IS NULL))"
    )
    op.execute("CREATE INDEX reconciliation_cases_open ON reconciliation_cases (case_id) WHERE resolved_at IS NULL")


def downgrade() -> None:
    op.execute("DROP INDEX reconciliation_cases_open")
    op.execute("ALTER TABLE reconciliation_cases DROP CONSTRAINT reconciliation_cases_resolved")
    op.execute("ALTER TABLE reconciliation_cases DROP COLUMN resolved_by")
    op.execute("ALTER TABLE reconciliation_cases RENAME COLUMN resolution_note TO resolution")
