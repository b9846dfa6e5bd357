"""The DWH's HTTP API: health, readiness, the headline numbers of the views, and every record of a
payment (for the operators' saga timeline)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Path, Query
from pydantic import StringConstraints

from paysaga.contracts.identities import OPS
from paysaga.contracts.ops import DeadLetter, KafkaRecord, PaymentRecords
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem
from paysaga.platform.service_auth import callers
from paysaga.services.dwh.schemas import Summary
from paysaga.services.dwh.store import DwhStore, DwhUnavailable

OPERATORS = callers(OPS)


# A provider's transaction id as the DWH's records hold them (ours: `ptx_` and 32 hex digits).
ProviderTxnId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]


def build_app(store: DwhStore, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga DWH",
        description="Analytics store (DuckDB) fed from every topic: raw events written exactly once, "
        "one row per payment saga, daily volumes and failure reasons.",
        readiness=readiness,
    )

    @app.get(
        "/v1/summary", response_model=Summary, summary="Headline numbers of the DWH's views", dependencies=[OPERATORS]
    )
    async def summary() -> Summary:
        try:
            return await asyncio.to_thread(store.summary)
        except DwhUnavailable as exc:
            raise Problem(503, "service-unavailable", "DWH busy", str(exc), headers={"Retry-After": "1"}) from exc

    @app.get(
        "/v1/payments/{paymentId}/records",
        response_model=PaymentRecords,
        summary="Every record of a payment on every topic (dead letters included), in the order produced",
        description="The records whose payload has the paymentId (or whose key is it), and the callbacks of its "
        "payouts: the providerTxnIds its records name, and those given (a payout whose final event is not out yet).",
        dependencies=[OPERATORS],
    )
    async def payment_records(
        payment_id: Annotated[str, Path(alias="paymentId", max_length=200)],
        provider_txn_ids: Annotated[list[ProviderTxnId] | None, Query(alias="providerTxnId", max_length=20)] = None,
    ) -> PaymentRecords:
        try:
            rows = await asyncio.to_thread(store.records_of_payment, payment_id, provider_txn_ids or [])
        except DwhUnavailable as exc:
            raise Problem(503, "service-unavailable", "DWH busy", str(exc), headers={"Retry-After": "1"}) from exc
        records = [kafka_record(r) for r in rows]
        txns = sorted({*(provider_txn_ids or []), *(t for r in records if (t := _txn(r)))})
        return PaymentRecords(payment_id=payment_id, provider_txn_ids=txns, records=records)

    return app


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def _txn(record: KafkaRecord) -> str | None:
    value = (record.payload or {}).get("providerTxnId")
    return value if isinstance(value, str) else None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def dead_letter(headers: Mapping[str, str]) -> DeadLetter:
    """What the consumer that gave up on a record wrote in its `dlq_*` headers (platform.consumer)."""
    return DeadLetter(
        reason=headers.get("dlq_reason"),
        error=headers.get("dlq_error"),
        consumer_group=headers.get("dlq_consumer_group"),
        original_topic=headers.get("dlq_original_topic"),
        original_partition=_int(headers.get("dlq_original_partition")),
        original_offset=_int(headers.get("dlq_original_offset")),
        failed_at=_time(headers.get("dlq_failed_at")),
    )


def kafka_record(row: Mapping[str, Any]) -> KafkaRecord:
    headers: dict[str, str] = orjson.loads(row["headers"]) if row["headers"] else {}
    document = orjson.loads(row["payload"]) if row["payload"] else None
    payload_text = row["payload_text"] if document is None or isinstance(document, dict) else row["payload"]
    return KafkaRecord(
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        timestamp=_aware(row["kafka_timestamp"]),
        key=row["key"],
        ce_id=row["ce_id"],
        ce_type=row["ce_type"],
        ce_source=row["ce_source"],
        ce_time=_aware(row["ce_time"]),
        payload=document if isinstance(document, dict) else None,
        payload_text=payload_text,
        headers=headers,
        ingested_at=_aware(row["ingested_at"]),
        dead_letter=dead_letter(headers) if row["topic"].endswith(".dlq") else None,
    )


def duckdb_check(store: DwhStore, *, fresh_seconds: float = 30.0) -> ReadinessCheck:
    """The file opens and answers; an open within `fresh_seconds` (by the ingest, a query or an
    earlier check) counts, so an idle DWH opens it twice a minute, not at every probe."""

    async def check() -> None:
        await asyncio.to_thread(store.ping, fresh_seconds=fresh_seconds)

    return check
