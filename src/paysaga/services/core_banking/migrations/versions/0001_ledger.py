"""chart of accounts, journal (append-only, balanced at commit), known payments, unposted completions, inbox

Revision ID: 0001
Revises:
"""

from alembic import op

from paysaga.platform import inbox
from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None

# (code, name, type, normal side, description): the chart of `domain.CHART_OF_ACCOUNTS`, frozen
# here as of this revision (a later chart change is a later migration).
ACCOUNTS = (
    ("1100", "Provider settlement", "ASSET", "DEBIT", "Our prefunded balance at the payout provider"),
    ("1900", "Suspense", "ASSET", "DEBIT", "Items awaiting a manual correction; no automatic rule posts here"),
    ("2100", "Customer funds", "LIABILITY", "CREDIT", "What we owe the wallet holders"),
)

TABLES = (
    """
    CREATE TABLE accounts (
        code        text        PRIMARY KEY CHECK (code ~ '^[0-9]{4}$'),
        name        text        NOT NULL,
        type        text        NOT NULL CHECK (type IN ('ASSET', 'LIABILITY', 'EQUITY', 'INCOME', 'EXPENSE')),
        normal_side text        NOT NULL CHECK (normal_side IN ('DEBIT', 'CREDIT')),
        description text        NOT NULL DEFAULT '',
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT normal_side_follows_type CHECK ((type IN ('ASSET', 'EXPENSE')) = (normal_side = 'DEBIT'))
    )
    """,
    # One row per posting. `created_txid` lets a trigger refuse lines added to an entry later.
    """
    CREATE TABLE journal_entries (
        entry_id          bigserial   PRIMARY KEY,
        kind              text        NOT NULL CHECK (kind IN ('PAYOUT', 'REVERSAL')),
        payment_id        text,
        provider_txn_id   text,
        description       text        NOT NULL,
        effective_at      timestamptz NOT NULL,
        posted_at         timestamptz NOT NULL DEFAULT now(),
        source_event_id   text,
        reverses_entry_id bigint      UNIQUE REFERENCES journal_entries (entry_id),
        created_txid      bigint      NOT NULL DEFAULT txid_current(),
        CONSTRAINT one_entry_per_payment_and_kind UNIQUE (payment_id, kind),
        CONSTRAINT reversal_names_its_entry CHECK ((kind = 'REVERSAL') = (reverses_entry_id IS NOT NULL)),
        CONSTRAINT payout_names_its_payment CHECK (kind <> 'PAYOUT' OR payment_id IS NOT NULL)
    )
    """,
    """
    CREATE TABLE journal_lines (
        line_id      bigserial PRIMARY KEY,
        entry_id     bigint    NOT NULL REFERENCES journal_entries (entry_id),
        account_code text      NOT NULL REFERENCES accounts (code),
        currency     char(3)   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        side         text      NOT NULL CHECK (side IN ('DEBIT', 'CREDIT')),
        amount       bigint    NOT NULL CHECK (amount > 0)
    )
    """,
    "CREATE INDEX journal_lines_entry ON journal_lines (entry_id)",
    "CREATE INDEX journal_lines_currency_account ON journal_lines (currency, account_code) INCLUDE (side, amount)",
    # What PaymentInitiated told us: the amount and currency to post when the payment completes.
    """
    CREATE TABLE known_payments (
        payment_id   text        PRIMARY KEY,
        wallet_id    text        NOT NULL,
        user_id      text        NOT NULL,
        amount       bigint      NOT NULL CHECK (amount > 0),
        currency     char(3)     NOT NULL,
        initiated_at timestamptz NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now()
    )
    """,
    # PaymentCompleted that came before its PaymentInitiated: kept, posted when the amount is known.
    """
    CREATE TABLE unposted_completions (
        payment_id      text        PRIMARY KEY,
        provider_txn_id text        NOT NULL,
        completed_at    timestamptz NOT NULL,
        source_event_id text        NOT NULL,
        received_at     timestamptz NOT NULL DEFAULT now()
    )
    """,
)

TRIGGERS = (
    # Append-only journal: no UPDATE, DELETE or TRUNCATE, whoever the writer (corrections are reversals).
    """
    CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the journal is append-only: % on % refused (post a reversal instead)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
        FOR EACH ROW EXECUTE FUNCTION journal_append_only()
    """,
    """
    CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines
        FOR EACH ROW EXECUTE FUNCTION journal_append_only()
    """,
    """
    CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
        FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only()
    """,
    """
    CREATE TRIGGER journal_lines_no_truncate BEFORE TRUNCATE ON journal_lines
        FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only()
    """,
    # A line belongs to an entry written by the same transaction: a committed entry gets no new lines.
    """
    CREATE FUNCTION journal_line_joins_a_new_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM journal_entries WHERE entry_id = NEW.entry_id AND created_txid = txid_current()
        ) THEN
            RAISE EXCEPTION 'journal entry % is already posted: lines can only be added with their entry',
                NEW.entry_id USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER journal_lines_join_a_new_entry BEFORE INSERT ON journal_lines
        FOR EACH ROW EXECUTE FUNCTION journal_line_joins_a_new_entry()
    """,
    # At commit: every entry written has at least two lines, and debits = credits in each currency.
    """
    CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        line_count integer;
        unbalanced record;
    BEGIN
        SELECT count(*) INTO line_count FROM journal_lines WHERE entry_id = NEW.entry_id;
        IF line_count < 2 THEN
            RAISE EXCEPTION 'journal entry % has % line(s); an entry has at least two', NEW.entry_id, line_count
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT currency,
               coalesce(sum(amount) FILTER (WHERE side = 'DEBIT'), 0) AS debits,
               coalesce(sum(amount) FILTER (WHERE side = 'CREDIT'), 0) AS credits
          INTO unbalanced
          FROM journal_lines
         WHERE entry_id = NEW.entry_id
         GROUP BY currency
        HAVING coalesce(sum(amount) FILTER (WHERE side = 'DEBIT'), 0)
            <> coalesce(sum(amount) FILTER (WHERE side = 'CREDIT'), 0)
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'journal entry % is unbalanced in %: debits %, credits %',
                NEW.entry_id, unbalanced.currency, unbalanced.debits, unbalanced.credits
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()
    """,
    """
    CREATE CONSTRAINT TRIGGER journal_lines_balanced AFTER INSERT ON journal_lines
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()
    """,
)

DROP = (
    "DROP TABLE unposted_completions",
    "DROP TABLE known_payments",
    "DROP TABLE journal_lines",
    "DROP TABLE journal_entries",
    "DROP TABLE accounts",
    "DROP FUNCTION journal_entry_balanced()",
    "DROP FUNCTION journal_line_joins_a_new_entry()",
    "DROP FUNCTION journal_append_only()",
)


def upgrade() -> None:
    execute_all(TABLES)
    for code, name, type_, side, description in ACCOUNTS:
        op.execute(
            "INSERT INTO accounts (code, name, type, normal_side, description)"
            f" VALUES ('{code}', '{name}', '{type_}', '{side}', '{description}')"
        )
    execute_all(TRIGGERS)
    execute_all(inbox.DDL)


def downgrade() -> None:
    execute_all(inbox.DROP_DDL)
    execute_all(DROP)
