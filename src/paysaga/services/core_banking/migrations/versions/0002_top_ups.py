"""top-ups: account 1200 Acquirer settlement, TOP_UP entries (one per top-up id); balances of one account

Revision ID: 0002
Revises: 0001

The downgrade refuses (a foreign key or a CHECK fails) once a top-up was journaled: the journal is
append-only, so its TOP_UP entries cannot be taken out again.
"""

from paysaga.platform.migrations import execute_all

revision = "0002"
down_revision = "0001"

# (code, name, type, normal side, description): added to the chart of `domain.CHART_OF_ACCOUNTS`.
ACCOUNTS = (
    (
        "1200",
        "Acquirer settlement",
        "ASSET",
        "DEBIT",
        "Card top-ups the card acquirer owes us until it pays them into our bank account",
    ),
)

UPGRADE = (
    "ALTER TABLE journal_entries ADD COLUMN top_up_id text",
    "ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check",
    "ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check"
    " CHECK (kind IN ('TOP_UP', 'PAYOUT', 'REVERSAL'))",
    "ALTER TABLE journal_entries ADD CONSTRAINT one_entry_per_top_up_and_kind UNIQUE (top_up_id, kind)",
    "ALTER TABLE journal_entries ADD CONSTRAINT top_up_names_its_top_up"
    " CHECK (kind <> 'TOP_UP' OR top_up_id IS NOT NULL)",
    # One account's balance per currency (Customer funds, for reconciliation) without reading the others.
    "CREATE INDEX journal_lines_account_currency ON journal_lines (account_code, currency) INCLUDE (side, amount)",
)

DOWNGRADE = (
    "DROP INDEX journal_lines_account_currency",
    "ALTER TABLE journal_entries DROP CONSTRAINT top_up_names_its_top_up",
    "ALTER TABLE journal_entries DROP CONSTRAINT one_entry_per_top_up_and_kind",
    "ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check",
    "ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN ('PAYOUT', 'REVERSAL'))",
    "ALTER TABLE journal_entries DROP COLUMN top_up_id",
    *(f"DELETE FROM accounts WHERE code = '{code}'" for code, *_ in ACCOUNTS),
)


def upgrade() -> None:
    execute_all(
        "INSERT INTO accounts (code, name, type, normal_side, description)"
        f" VALUES ('{code}', '{name}', '{type_}', '{side}', '{description}')"
        for code, name, type_, side, description in ACCOUNTS
    )
    execute_all(UPGRADE)


def downgrade() -> None:
    execute_all(DOWNGRADE)
