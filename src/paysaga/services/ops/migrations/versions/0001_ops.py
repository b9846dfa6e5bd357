"""operators, audit log, login throttle, dead-letter replays and their idempotency keys

Revision ID: 0001
Revises:
"""

from paysaga.platform.migrations import execute_all

revision = "0001"
down_revision = None


def upgrade() -> None:
    execute_all(
        (
            """
            CREATE TABLE operators (
                operator_id      uuid        PRIMARY KEY,
                email            text        NOT NULL,
                email_normalized text        NOT NULL UNIQUE,
                password_hash    text        NOT NULL,
                created_at       timestamptz NOT NULL DEFAULT now(),
                disabled_at      timestamptz
            )
            """,
            # Who did what, when: written before an action is attempted ('pending') and finished
            # with its outcome, so no action happens unaudited. Never updated otherwise.
            """
            CREATE TABLE audit_log (
                audit_id    bigserial   PRIMARY KEY,
                at          timestamptz NOT NULL DEFAULT now(),
                operator_id uuid        REFERENCES operators (operator_id),
                actor       text        NOT NULL,
                action      text        NOT NULL,
                target      text,
                summary     jsonb       NOT NULL,
                outcome     text        NOT NULL CHECK (outcome IN ('pending', 'succeeded', 'failed')),
                detail      text,
                finished_at timestamptz
            )
            """,
            "CREATE INDEX audit_log_operator ON audit_log (operator_id, audit_id)",
            "CREATE INDEX audit_log_action ON audit_log (action, audit_id)",
            """
            CREATE TABLE login_throttle (
                scope        text        NOT NULL,
                subject      text        NOT NULL,
                window_start timestamptz NOT NULL,
                hits         integer     NOT NULL CHECK (hits > 0),
                expires_at   timestamptz NOT NULL,
                PRIMARY KEY (scope, subject, window_start)
            )
            """,
            "CREATE INDEX login_throttle_expires_at ON login_throttle (expires_at)",
            """
            CREATE TABLE replay_requests (
                operator_id     uuid        NOT NULL REFERENCES operators (operator_id),
                key             text        NOT NULL,
                request_hash    text        NOT NULL,
                response_status integer,
                response_body   jsonb,
                created_at      timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (operator_id, key)
            )
            """,
            "CREATE INDEX replay_requests_created_at ON replay_requests (created_at)",
            # One row per dead-letter record re-published (or tried): a record is replayed again
            # only when forced, while a PENDING or PUBLISHED row of it exists.
            """
            CREATE TABLE replays (
                replay_id           bigserial   PRIMARY KEY,
                operator_id         uuid        NOT NULL REFERENCES operators (operator_id),
                request_key         text        NOT NULL,
                dlq_topic           text        NOT NULL,
                dlq_partition       integer     NOT NULL,
                dlq_offset          bigint      NOT NULL,
                original_topic      text        NOT NULL,
                original_partition  integer,
                original_offset     bigint,
                consumer_group      text,
                reason              text,
                ce_id               text,
                ce_type             text,
                record_key          text,
                forced              boolean     NOT NULL,
                status              text        NOT NULL CHECK (status IN ('PENDING', 'PUBLISHED', 'FAILED')),
                error               text,
                requested_at        timestamptz NOT NULL DEFAULT now(),
                finished_at         timestamptz,
                published_partition integer,
                published_offset    bigint
            )
            """,
            "CREATE INDEX replays_record ON replays (dlq_topic, dlq_partition, dlq_offset)",
        )
    )


def downgrade() -> None:
    execute_all(
        (
            "DROP TABLE replays",
            "DROP TABLE replay_requests",
            "DROP TABLE login_throttle",
            "DROP TABLE audit_log",
            "DROP TABLE operators",
        )
    )
