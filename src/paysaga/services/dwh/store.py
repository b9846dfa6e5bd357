"""The DuckDB store: the raw events table, the consumed offsets, the derived views, and the only SQL.

Exactly once: a batch of records and the next offset of each of its partitions are written in ONE
transaction, and the ingest resumes from the offsets stored here, so a crash leaves both or neither. The file
is opened per operation and closed right after because DuckDB lets only one process hold it: a report from
another process can read between two batches. Every time is stored as a UTC `TIMESTAMP`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import orjson
import structlog

from paysaga.contracts.bus import EXPECTED_SOURCES
from paysaga.contracts.cloudevents import H_ID, H_SOURCE, H_TIME, H_TYPE, headers_dict
from paysaga.contracts.topics import ALL_TOPICS, CALLBACK_EVENTS, CUSTOMER_EVENTS, PAYMENT_EVENTS
from paysaga.platform.failpoints import failpoint
from paysaga.services.dwh.schemas import (
    CurrencyVolume,
    DurationStats,
    FailureReason,
    PaymentTotals,
    Summary,
    TopicCount,
)

log = structlog.get_logger("paysaga.dwh")

Bucket = Literal["day", "hour"]

# A record counts in the saga views only from its type's publisher, as the consumers apply it (a
# forged one stays in raw_events and events, for an analyst to find).
_FROM_PUBLISHER = "ce_source = CASE ce_type {} END".format(
    " ".join(f"WHEN '{t}' THEN '{s}'" for t, s in EXPECTED_SOURCES.items())
)

SCHEMA: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS raw_events (
        topic VARCHAR NOT NULL,
        "partition" INTEGER NOT NULL,
        "offset" BIGINT NOT NULL,
        key VARCHAR,
        payload JSON,
        payload_text VARCHAR,
        headers JSON NOT NULL,
        ce_id VARCHAR,
        ce_type VARCHAR,
        ce_source VARCHAR,
        ce_time TIMESTAMP,
        kafka_timestamp TIMESTAMP,
        ingested_at TIMESTAMP NOT NULL,
        payment_id VARCHAR,
        provider_txn_id VARCHAR,
        PRIMARY KEY (topic, "partition", "offset")
    )
    """,
    # Files written before the two columns existed: see `_backfill_ids`.
    "ALTER TABLE raw_events ADD COLUMN IF NOT EXISTS payment_id VARCHAR",
    "ALTER TABLE raw_events ADD COLUMN IF NOT EXISTS provider_txn_id VARCHAR",
    """
    CREATE TABLE IF NOT EXISTS kafka_offsets (
        topic VARCHAR NOT NULL,
        "partition" INTEGER NOT NULL,
        next_offset BIGINT NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (topic, "partition")
    )
    """,
    # An RFC 3339 string (with or without offset) as a UTC TIMESTAMP; NULL when it is not one.
    "CREATE OR REPLACE MACRO dwh_ts(s) AS (TRY_CAST(s AS TIMESTAMPTZ) AT TIME ZONE 'UTC')",
    # One row per event: a record published again (same ce_source and ce_id, as the outbox relay
    # may do after a crash) counts once, its first delivery wins. A dead letter is not an event.
    """
    CREATE OR REPLACE VIEW events AS
    SELECT * FROM raw_events
    WHERE NOT ends_with(topic, '.dlq')
    QUALIFY row_number() OVER (
        PARTITION BY topic, coalesce(ce_source, ''), coalesce(ce_id, '#' || "partition" || ':' || "offset")
        ORDER BY "partition", "offset"
    ) = 1
    """,
    # One row per payment. Events of one paymentId share a partition (it is the key), so the
    # offset orders them. The callback is found through the providerTxnId of the final event.
    f"""
    CREATE OR REPLACE VIEW payment_sagas AS
    WITH payment AS (
        SELECT payload->>'paymentId' AS payment_id, ce_type, payload, ce_time, "offset"
        FROM events
        WHERE topic = '{PAYMENT_EVENTS}' AND payload->>'paymentId' IS NOT NULL AND {_FROM_PUBLISHER}
    ),
    initiated AS (
        SELECT payment_id, first(payload ORDER BY "offset") AS p, first(ce_time ORDER BY "offset") AS ce_time
        FROM payment WHERE ce_type = 'PaymentInitiated' GROUP BY payment_id
    ),
    final AS (
        SELECT payment_id,
               first(ce_type ORDER BY "offset") AS final_type,
               first(payload ORDER BY "offset") AS p,
               first(ce_time ORDER BY "offset") AS ce_time,
               count(*) AS final_events
        FROM payment WHERE ce_type IN ('PaymentCompleted', 'PaymentFailed') GROUP BY payment_id
    ),
    callback AS (
        SELECT payload->>'providerTxnId' AS provider_txn_id,
               min(coalesce(dwh_ts(payload->>'receivedAt'), ce_time)) AS received_at,
               first(payload->>'status' ORDER BY "offset") AS status,
               count(*) AS callbacks
        FROM events
        WHERE topic = '{CALLBACK_EVENTS}' AND ce_type = 'ProviderCallbackReceived'
          AND payload->>'providerTxnId' IS NOT NULL AND {_FROM_PUBLISHER}
        GROUP BY 1
    ),
    joined AS (
        SELECT ids.payment_id,
               i.p->>'walletId' AS wallet_id,
               i.p->>'userId' AS user_id,
               TRY_CAST(i.p->>'amount' AS BIGINT) AS amount,
               i.p->>'currency' AS currency,
               coalesce(dwh_ts(i.p->>'createdAt'), i.ce_time) AS initiated_at,
               f.p->>'providerTxnId' AS provider_txn_id,
               c.status AS callback_status,
               c.received_at AS callback_received_at,
               coalesce(c.callbacks, 0) AS callbacks,
               coalesce(dwh_ts(f.p->>'completedAt'), f.ce_time) AS finished_at,
               CASE f.final_type
                   WHEN 'PaymentCompleted' THEN 'COMPLETED'
                   WHEN 'PaymentFailed' THEN 'FAILED'
                   ELSE 'PENDING'
               END AS status,
               f.p->>'errorCode' AS error_code,
               coalesce(f.final_events, 0) AS final_events
        FROM (SELECT DISTINCT payment_id FROM payment) ids
        LEFT JOIN initiated i USING (payment_id)
        LEFT JOIN final f USING (payment_id)
        LEFT JOIN callback c ON c.provider_txn_id = f.p->>'providerTxnId'
    )
    SELECT payment_id, wallet_id, user_id, amount, currency, status, error_code, provider_txn_id,
           initiated_at,
           callback_status,
           callback_received_at,
           CASE WHEN status = 'COMPLETED' THEN finished_at END AS completed_at,
           CASE WHEN status = 'FAILED' THEN finished_at END AS failed_at,
           finished_at,
           epoch_ms(callback_received_at) - epoch_ms(initiated_at) AS to_callback_ms,
           epoch_ms(finished_at) - epoch_ms(callback_received_at) AS callback_to_final_ms,
           epoch_ms(finished_at) - epoch_ms(initiated_at) AS duration_ms,
           callbacks,
           final_events
    FROM joined
    """,
    *(
        f"""
        CREATE OR REPLACE VIEW {view} AS
        SELECT {bucket_expr} AS {bucket}, currency,
               count(*) AS payments,
               sum(amount) AS amount,
               count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
               coalesce(sum(amount) FILTER (WHERE status = 'COMPLETED'), 0) AS completed_amount,
               count(*) FILTER (WHERE status = 'FAILED') AS failed,
               count(*) FILTER (WHERE status = 'PENDING') AS pending,
               CAST(count(*) FILTER (WHERE status = 'COMPLETED') AS DOUBLE)
                   / nullif(count(*) FILTER (WHERE status IN ('COMPLETED', 'FAILED')), 0) AS success_rate
        FROM payment_sagas
        WHERE initiated_at IS NOT NULL
        GROUP BY ALL
        ORDER BY {bucket}, currency
        """
        for view, bucket, bucket_expr in (
            ("daily_volumes", "day", "CAST(initiated_at AS DATE)"),
            ("hourly_volumes", "hour", "date_trunc('hour', initiated_at)"),
        )
    ),
    """
    CREATE OR REPLACE VIEW failure_reasons AS
    SELECT coalesce(error_code, 'UNKNOWN') AS error_code,
           count(*) AS failures,
           CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share,
           min(failed_at) AS first_failed_at,
           max(failed_at) AS last_failed_at
    FROM payment_sagas
    WHERE status = 'FAILED'
    GROUP BY ALL
    ORDER BY failures DESC, error_code
    """,
)

_INSERT_RAW = """
INSERT INTO raw_events (topic, "partition", "offset", key, payload, payload_text, headers, ce_id, ce_type, ce_source,
                        ce_time, kafka_timestamp, ingested_at, payment_id, provider_txn_id)
SELECT * FROM (
    SELECT unnest($topic::VARCHAR[]), unnest($partition::INTEGER[]), unnest($offset::BIGINT[]),
           unnest($key::VARCHAR[]), unnest($payload::VARCHAR[])::JSON, unnest($payload_text::VARCHAR[]),
           unnest($headers::VARCHAR[])::JSON, unnest($ce_id::VARCHAR[]), unnest($ce_type::VARCHAR[]),
           unnest($ce_source::VARCHAR[]), unnest($ce_time::TIMESTAMP[]), unnest($kafka_timestamp::TIMESTAMP[]),
           $ingested_at::TIMESTAMP, unnest($payment_id::VARCHAR[]), unnest($provider_txn_id::VARCHAR[])
)
ON CONFLICT DO NOTHING
"""

# The ids a record is found by (`records_of_payment`, see `_ids`), for files written before they were stored.
_BACKFILL_IDS = f"""
UPDATE raw_events SET
    payment_id = coalesce(
        payload->>'paymentId', CASE WHEN topic IN ('{PAYMENT_EVENTS}', '{PAYMENT_EVENTS}.dlq') THEN key END
    ),
    provider_txn_id = coalesce(
        payload->>'providerTxnId', CASE WHEN topic IN ('{CALLBACK_EVENTS}', '{CALLBACK_EVENTS}.dlq') THEN key END
    )
"""

_RECORD_COLUMNS = (
    'topic, "partition", "offset", key, payload, payload_text, headers, ce_id, ce_type, ce_source, ce_time,'
    " kafka_timestamp, ingested_at"
)

_UPSERT_OFFSET = """
INSERT INTO kafka_offsets VALUES ($topic, $partition, $next_offset, $now)
ON CONFLICT (topic, "partition") DO UPDATE
SET next_offset = greatest(kafka_offsets.next_offset, excluded.next_offset), updated_at = excluded.updated_at
"""


class DwhUnavailable(Exception):
    """The DuckDB file cannot be used now: held by another process, or missing."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One Kafka record as consumed (no Kafka types: the store is testable without a broker)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    inserted: int
    skipped: int  # already stored: a redelivery
    next_offsets: dict[tuple[str, int], int]


@dataclass(frozen=True, slots=True)
class VolumeRow:
    bucket: datetime
    currency: str | None
    payments: int
    amount: int
    completed: int
    completed_amount: int
    failed: int
    pending: int
    success_rate: float | None


def utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return utc_naive(parsed) if parsed.tzinfo else parsed


def _decode_key(record: RawRecord) -> str | None:
    """The key as text; a key that is not UTF-8 keeps its undecodable bytes as `\\xNN` escapes
    (lossless: our keys are ids, which never hold a backslash), and is logged."""
    if record.key is None:
        return None
    try:
        return record.key.decode()
    except UnicodeDecodeError:
        key = record.key.decode(errors="backslashreplace")
        log.warning("dwh.key_not_utf8", topic=record.topic, partition=record.partition, offset=record.offset, key=key)
        return key


def _row_columns(records: Sequence[RawRecord]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {
        name: []
        for name in (
            "topic",
            "partition",
            "offset",
            "key",
            "payload",
            "payload_text",
            "headers",
            "ce_id",
            "ce_type",
            "ce_source",
            "ce_time",
            "kafka_timestamp",
            "payment_id",
            "provider_txn_id",
        )
    }
    for r in records:
        headers = headers_dict(list(r.headers))
        payload: str | None = None
        payload_text: str | None = None
        document: Any = None
        if r.value is not None:
            try:
                document = orjson.loads(r.value)
                payload = r.value.decode()
            except (orjson.JSONDecodeError, UnicodeDecodeError):
                payload_text = r.value.decode(errors="replace")
        cols["topic"].append(r.topic)
        cols["partition"].append(r.partition)
        cols["offset"].append(r.offset)
        cols["key"].append(_decode_key(r))
        cols["payload"].append(payload)
        cols["payload_text"].append(payload_text)
        cols["headers"].append(orjson.dumps(headers).decode())
        cols["ce_id"].append(headers.get(H_ID) or None)
        cols["ce_type"].append(headers.get(H_TYPE) or None)
        cols["ce_source"].append(headers.get(H_SOURCE) or None)
        cols["ce_time"].append(_parse_time(headers.get(H_TIME)))
        cols["kafka_timestamp"].append(
            datetime.fromtimestamp(r.timestamp_ms / 1000, UTC).replace(tzinfo=None) if r.timestamp_ms else None
        )
        payment_id, provider_txn_id = _ids(r.topic, cols["key"][-1], document)
        cols["payment_id"].append(payment_id)
        cols["provider_txn_id"].append(provider_txn_id)
    return cols


def _ids(topic: str, key: str | None, document: Any) -> tuple[str | None, str | None]:
    """The payment and the payout a record is about: its payload's paymentId and providerTxnId; for a
    record whose payload does not say (not JSON: a dead letter, say), its key on a topic keyed by it."""
    base = topic.removesuffix(".dlq")
    payment_id = _text_field(document, "paymentId") or (key if base == PAYMENT_EVENTS else None)
    provider_txn_id = _text_field(document, "providerTxnId") or (key if base == CALLBACK_EVENTS else None)
    return payment_id, provider_txn_id


def _text_field(document: Any, name: str) -> str | None:
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


class DwhStore:
    """The DuckDB file. Thread-safe: one operation at a time in this process."""

    def __init__(self, path: Path | str, *, read_only: bool = False, lock_wait_seconds: float = 15.0) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.lock_wait_seconds = lock_wait_seconds
        self._lock = threading.Lock()
        self._schema_ready = read_only
        self._opened_at: float | None = None  # monotonic time of the last successful open

    # -- connections ---------------------------------------------------------------------------

    def _open(self, lock_wait_seconds: float) -> duckdb.DuckDBPyConnection:
        if self.read_only and not self.path.exists():
            raise DwhUnavailable(f"no DWH database at {self.path}")
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + lock_wait_seconds
        delay = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=self.read_only)
                self._opened_at = time.monotonic()
                return con
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise DwhUnavailable(f"{self.path} is held by another process: {exc}") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    @contextlib.contextmanager
    def connect(self, *, lock_wait_seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """The file, opened for one operation and closed after it (so other processes can read)."""
        with self._lock:
            con = self._open(self.lock_wait_seconds if lock_wait_seconds is None else lock_wait_seconds)
            try:
                con.execute("SET TimeZone = 'UTC'")
                if not self._schema_ready:
                    backfill = _lacks_ids(con)
                    for statement in SCHEMA:
                        con.execute(statement)
                    if backfill:
                        con.execute(_BACKFILL_IDS)
                    self._schema_ready = True
                yield con
            finally:
                con.close()

    def initialize(self) -> None:
        """Create the tables, macro and views (idempotent; also done by the first operation)."""
        with self.connect():
            pass

    def ping(self, lock_wait_seconds: float = 1.0, *, fresh_seconds: float = 0.0) -> None:
        """Open the file and run a query (DwhUnavailable or duckdb's error when it cannot) — unless it
        was opened within `fresh_seconds`: opening costs ~40 ms of CPU, too much for every probe."""
        opened = self._opened_at
        if fresh_seconds > 0 and opened is not None and time.monotonic() - opened < fresh_seconds:
            return
        with self.connect(lock_wait_seconds=lock_wait_seconds) as con:
            con.execute("SELECT 1").fetchall()

    # -- ingest --------------------------------------------------------------------------------

    def stored_offsets(self) -> dict[tuple[str, int], int]:
        """The next offset to read of every partition ever ingested."""
        with self.connect() as con:
            rows = con.execute('SELECT topic, "partition", next_offset FROM kafka_offsets').fetchall()
        return {(topic, partition): next_offset for topic, partition, next_offset in rows}

    def ingest(self, records: Sequence[RawRecord]) -> IngestResult:
        """Store the records not stored yet and advance the partitions' offsets, in one transaction."""
        if not records:
            return IngestResult(0, 0, {})
        now = utc_naive(datetime.now(UTC))
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                stored = {
                    (t, p): o
                    for t, p, o in con.execute('SELECT topic, "partition", next_offset FROM kafka_offsets').fetchall()
                }
                fresh: dict[tuple[str, int, int], RawRecord] = {}
                next_offsets: dict[tuple[str, int], int] = {}
                for r in records:
                    tp = (r.topic, r.partition)
                    next_offsets[tp] = max(next_offsets.get(tp, 0), r.offset + 1)
                    if r.offset >= stored.get(tp, 0):
                        fresh.setdefault((r.topic, r.partition, r.offset), r)
                if fresh:
                    con.execute(_INSERT_RAW, {**_row_columns(list(fresh.values())), "ingested_at": now})
                for (topic, partition), next_offset in next_offsets.items():
                    con.execute(
                        _UPSERT_OFFSET, {"topic": topic, "partition": partition, "next_offset": next_offset, "now": now}
                    )
                failpoint("dwh.store.before_commit")
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
        merged = {tp: max(o, stored.get(tp, 0)) for tp, o in next_offsets.items()}
        return IngestResult(inserted=len(fresh), skipped=len(records) - len(fresh), next_offsets=merged)

    # -- reads ---------------------------------------------------------------------------------

    def fetch(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connect() as con:
            return con.execute(sql, params).fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.connect() as con:
            cursor = con.execute(sql, params)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def topic_counts(self) -> dict[str, int]:
        """Raw records stored per topic (one per Kafka offset)."""
        return {t: n for t, n in self.fetch("SELECT topic, count(*) FROM raw_events GROUP BY topic")}

    def volumes(self, bucket: Bucket) -> list[VolumeRow]:
        with self.connect() as con:
            return read_volumes(con, bucket)

    def saga_durations(self) -> list[tuple[str, int]]:
        with self.connect() as con:
            return read_durations(con)

    def summary(self) -> Summary:
        with self.connect() as con:
            return read_summary(con)

    def records_of_payment(self, payment_id: str, provider_txn_ids: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Every record of a payment on every topic, dead letters included, in the order produced: those
        of its paymentId and the callbacks of its payouts (the providerTxnIds of its records, and
        `provider_txn_ids`). Each is a scan of one column (no index: it would cost every batch)."""
        with self.connect() as con:
            own = _dicts(
                con.execute(f"SELECT {_RECORD_COLUMNS} FROM raw_events WHERE payment_id = $id", {"id": payment_id})
            )
            txns = sorted({*provider_txn_ids, *(t for r in own if (t := _txn_of(r)))})
            callbacks = (
                _dicts(
                    con.execute(
                        f"SELECT {_RECORD_COLUMNS} FROM raw_events WHERE provider_txn_id IN (SELECT unnest($txns))"
                        " AND topic IN ($topic, $topic || '.dlq')",
                        {"txns": txns, "topic": CALLBACK_EVENTS},
                    )
                )
                if txns
                else []
            )
        found = {(r["topic"], r["partition"], r["offset"]): r for r in [*own, *callbacks]}
        return sorted(found.values(), key=lambda r: (r["kafka_timestamp"] or r["ingested_at"], r["topic"], r["offset"]))


def _lacks_ids(con: duckdb.DuckDBPyConnection) -> bool:
    """A file whose raw_events has no payment_id column yet: its rows need their ids backfilled."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'raw_events' AND column_name = 'payment_id'"
    ).fetchone()
    tables = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'raw_events'").fetchone()
    return bool(tables and tables[0]) and not (found and found[0])


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _txn_of(row: dict[str, Any]) -> str | None:
    if not row["payload"]:
        return None
    return _text_field(orjson.loads(row["payload"]), "providerTxnId")


# -- reads on an open connection (several of them see one state of the file) -----------------


def read_volumes(con: duckdb.DuckDBPyConnection, bucket: Bucket) -> list[VolumeRow]:
    """Payments per day or hour and currency (the `daily_volumes` or `hourly_volumes` view)."""
    view = "daily_volumes" if bucket == "day" else "hourly_volumes"
    rows = con.execute(
        f"SELECT {bucket}, currency, payments, coalesce(amount, 0), completed, completed_amount, failed, "
        f"pending, success_rate FROM {view} ORDER BY 1, 2"
    ).fetchall()
    result = []
    for b, currency, payments, amount, completed, completed_amount, failed, pending, rate in rows:
        at = b if isinstance(b, datetime) else datetime(b.year, b.month, b.day)
        result.append(
            VolumeRow(
                at.replace(tzinfo=UTC),
                currency,
                int(payments),
                int(amount),
                int(completed),
                int(completed_amount),
                int(failed),
                int(pending),
                rate,
            )
        )
    return result


def read_durations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(status, duration_ms) of every finished payment whose start is known."""
    rows = con.execute(
        "SELECT status, duration_ms FROM payment_sagas WHERE duration_ms IS NOT NULL ORDER BY finished_at"
    ).fetchall()
    return [(status, int(ms)) for status, ms in rows]


def read_summary(con: duckdb.DuckDBPyConnection) -> Summary:
    """The headline numbers of the views."""

    def one(sql: str) -> tuple[Any, ...]:
        row = con.execute(sql).fetchone()
        assert row is not None
        return row

    topics = con.execute(
        """
        SELECT t.topic, coalesce(r.records, 0), coalesce(e.events, 0)
        FROM (SELECT unnest($topics::VARCHAR[]) AS topic) t
        LEFT JOIN (SELECT topic, count(*) AS records FROM raw_events GROUP BY topic) r USING (topic)
        LEFT JOIN (SELECT topic, count(*) AS events FROM events GROUP BY topic) e USING (topic)
        UNION ALL
        SELECT topic, count(*), 0 FROM raw_events WHERE topic NOT IN (SELECT unnest($topics::VARCHAR[]))
        GROUP BY topic
        """,
        {"topics": list(ALL_TOPICS)},
    ).fetchall()
    types = con.execute("SELECT coalesce(ce_type, '(none)'), count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall()
    customers = one(
        f"SELECT count(DISTINCT payload->>'userId') FROM events "
        f"WHERE topic = '{CUSTOMER_EVENTS}' AND ce_type = 'CustomerCreated'"
    )[0]
    total, completed, failed, pending, first_at, last_at = one(
        """
        SELECT count(*), count(*) FILTER (WHERE status = 'COMPLETED'), count(*) FILTER (WHERE status = 'FAILED'),
               count(*) FILTER (WHERE status = 'PENDING'), min(initiated_at), max(initiated_at)
        FROM payment_sagas
        """
    )
    volumes = con.execute(
        """
        SELECT currency, count(*), coalesce(sum(amount), 0),
               coalesce(sum(amount) FILTER (WHERE status = 'COMPLETED'), 0)
        FROM payment_sagas WHERE currency IS NOT NULL GROUP BY currency ORDER BY currency
        """
    ).fetchall()
    finished, avg_ms, p50, p95, max_ms = one(
        """
        SELECT count(*), avg(duration_ms), quantile_cont(duration_ms, 0.5), quantile_cont(duration_ms, 0.95),
               max(duration_ms)
        FROM payment_sagas WHERE duration_ms IS NOT NULL
        """
    )
    reasons = con.execute("SELECT error_code, failures, share FROM failure_reasons").fetchall()
    last_ingested = one("SELECT max(ingested_at) FROM raw_events")[0]
    decided = completed + failed
    return Summary(
        topics=[TopicCount(topic=t, records=r, events=e) for t, r, e in topics],
        event_types={t: n for t, n in types},
        customers=customers,
        payments=PaymentTotals(
            total=total,
            completed=completed,
            failed=failed,
            pending=pending,
            success_rate=completed / decided if decided else None,
        ),
        volumes=[
            CurrencyVolume(currency=c, payments=n, amount=int(a), completed_amount=int(ca)) for c, n, a, ca in volumes
        ],
        durations=DurationStats(finished=finished, avg_ms=avg_ms, p50_ms=p50, p95_ms=p95, max_ms=max_ms),
        failure_reasons=[FailureReason(error_code=c, failures=n, share=s) for c, n, s in reasons],
        first_payment_at=_aware(first_at),
        last_payment_at=_aware(last_at),
        last_ingested_at=_aware(last_ingested),
    )
