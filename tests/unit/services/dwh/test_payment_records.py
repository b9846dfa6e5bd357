"""Every record of one payment, as the DWH gives it to the operators' saga timeline
(`GET /v1/payments/{paymentId}/records`): its own records on every topic, the callbacks of its payouts,
and the dead letters of both, with their reason headers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest

from paysaga.contracts.identities import BFF
from paysaga.services.dwh.app import build_app
from paysaga.services.dwh.store import DwhStore, RawRecord
from tests.support.identity import TEST_KEYS
from tests.unit.services.dwh.factory import FakeLog, customer, saga

pytestmark = pytest.mark.unit

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def dead_letter(original: RawRecord, offset: int, *, value: bytes | None = None) -> RawRecord:
    """The record as a consumer dead-letters it: same key, value and headers, plus the `dlq_*` headers."""
    headers = [
        *original.headers,
        ("dlq_reason", b"handler-failed"),
        ("dlq_error", b"RuntimeError: boom"),
        ("dlq_consumer_group", b"payment"),
        ("dlq_original_topic", original.topic.encode()),
        ("dlq_original_partition", str(original.partition).encode()),
        ("dlq_original_offset", str(original.offset).encode()),
        ("dlq_failed_at", b"2026-03-01T09:00:05+00:00"),
    ]
    return RawRecord(
        topic=original.topic + ".dlq",
        partition=original.partition,
        offset=offset,
        key=original.key,
        value=original.value if value is None else value,
        headers=headers,
        timestamp_ms=(original.timestamp_ms or 0) + 5000,
    )


def produced(records: list[RawRecord]) -> list[RawRecord]:
    """With the time each was produced (FakeLog's timestamps only count offsets)."""
    return [replace(r, timestamp_ms=int(datetime.fromisoformat(ce_time(r)).timestamp() * 1000)) for r in records]


def ce_time(record: RawRecord) -> str:
    value = dict(record.headers)["ce_time"]
    assert value is not None
    return value.decode()


def client(store: DwhStore) -> httpx.AsyncClient:
    app = TEST_KEYS.protect(build_app(store, readiness={}), "dwh")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dwh", auth=TEST_KEYS.auth("dwh"))


def test_a_payments_records_on_every_topic_and_no_one_elses(tmp_path: Path) -> None:
    store = DwhStore(tmp_path / "dwh.duckdb")
    log = FakeLog()
    mine, other = saga("COMPLETED", START), saga("COMPLETED", START)
    store.ingest(produced(log.append_all([*mine.events, *other.events, customer(START)])))

    found = store.records_of_payment(mine.payment_id)

    assert [r["ce_type"] for r in found] == ["PaymentInitiated", "ProviderCallbackReceived", "PaymentCompleted"]
    assert {r["ce_id"] for r in found} == {e.ce_id for e in mine.events}
    assert found[1]["key"] == mine.txn_id  # found through the providerTxnId of its final event


def test_a_pending_payments_callback_is_found_through_the_txn_id_given(tmp_path: Path) -> None:
    store = DwhStore(tmp_path / "dwh.duckdb")
    done = saga("COMPLETED", START)
    initiated, callback, _ = done.events  # as if the final event were not out yet
    store.ingest(produced(FakeLog().append_all([initiated, callback])))

    assert [r["ce_type"] for r in store.records_of_payment(done.payment_id)] == ["PaymentInitiated"]
    assert [r["ce_type"] for r in store.records_of_payment(done.payment_id, [done.txn_id or ""])] == [
        "PaymentInitiated",
        "ProviderCallbackReceived",
    ]


async def test_dead_letters_come_with_their_reason_even_when_the_value_is_not_json(tmp_path: Path) -> None:
    store = DwhStore(tmp_path / "dwh.duckdb")
    failed = saga("DECLINED", START)
    records = produced(FakeLog().append_all(failed.events))
    initiated = records[0]
    store.ingest([*records, dead_letter(initiated, 0), dead_letter(initiated, 1, value=b"\xffnot json")])

    async with client(store) as http:
        response = await http.get(f"/v1/payments/{failed.payment_id}/records")
        assert (await http.get("/v1/summary")).json()["eventTypes"]["PaymentInitiated"] == 1  # not an event again
        refused = await http.get(f"/v1/payments/{failed.payment_id}/records", auth=TEST_KEYS.auth("dwh", BFF))

    assert response.status_code == 200, response.text
    assert refused.status_code == 403
    body = response.json()
    assert body["paymentId"] == failed.payment_id and body["providerTxnIds"] == [failed.txn_id]
    topics = [r["topic"] for r in body["records"]]
    assert topics.count("payment-events.dlq") == 2 and "callback-events" in topics
    letters = [r for r in body["records"] if r["topic"] == "payment-events.dlq"]
    assert letters[0]["deadLetter"] == {
        "reason": "handler-failed",
        "error": "RuntimeError: boom",
        "consumerGroup": "payment",
        "originalTopic": "payment-events",
        "originalPartition": initiated.partition,
        "originalOffset": initiated.offset,
        "failedAt": "2026-03-01T09:00:05Z",
    }
    assert letters[0]["payload"]["paymentId"] == failed.payment_id and letters[0]["ceType"] == "PaymentInitiated"
    assert letters[1]["payload"] is None and letters[1]["payloadText"] is not None  # found by its key
    first = body["records"][0]
    assert (first["ceType"], first["ceSource"], first["key"]) == (
        "PaymentInitiated",
        "/paysaga/wallet",
        failed.payment_id,
    )
    assert first["timestamp"] is not None and first["ingestedAt"] is not None and first["headers"]["ce_id"]


def test_a_file_written_before_the_ids_were_stored_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = saga("COMPLETED", START)
    con = duckdb.connect(str(path))
    con.execute(
        'CREATE TABLE raw_events (topic VARCHAR NOT NULL, "partition" INTEGER NOT NULL, "offset" BIGINT NOT NULL,'
        " key VARCHAR, payload JSON, payload_text VARCHAR, headers JSON NOT NULL, ce_id VARCHAR, ce_type VARCHAR,"
        " ce_source VARCHAR, ce_time TIMESTAMP, kafka_timestamp TIMESTAMP, ingested_at TIMESTAMP NOT NULL,"
        ' PRIMARY KEY (topic, "partition", "offset"))'
    )
    for offset, event in enumerate(old.events):
        con.execute(
            "INSERT INTO raw_events VALUES (?, 0, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, NULL, now())",
            [
                event.topic,
                offset,
                event.key,
                event.value.decode(),
                orjson.dumps({}).decode(),
                event.ce_id,
                event.ce_type,
            ],
        )
    con.close()

    found = DwhStore(path).records_of_payment(old.payment_id)

    assert sorted(r["ce_type"] for r in found) == ["PaymentCompleted", "PaymentInitiated", "ProviderCallbackReceived"]
