"""The Callback service against the session's real Kafka: its HTTP app with a real idempotent
producer, driven in-process over ASGI; records read back from callback-events."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr

from paysaga.contracts.signatures import SIGNATURE_HEADER, signature_header
from paysaga.contracts.topics import CALLBACK_EVENTS
from paysaga.platform.kafka import KafkaAccess, KafkaProducer
from paysaga.services.callback.app import build_app
from paysaga.services.callback.settings import CallbackSettings
from tests.support.kafka import Record, dead_bootstrap, read_topic

SECRET = "callback-test-provider-secret-0123456789abcdef"
TOLERANCE_SECONDS = 120  # not the default 300: the tests check that the service uses its setting


def settings(**overrides: Any) -> CallbackSettings:
    values: dict[str, Any] = {
        "provider_secret": SecretStr(SECRET),
        "signature_tolerance_seconds": TOLERANCE_SECONDS,
        "publish_timeout_seconds": 10.0,
    }
    return CallbackSettings(**{**values, **overrides})


def new_txn_id() -> str:
    return f"ptx_{uuid.uuid4().hex}"


def callback_json(txn_id: str, status: str = "SUCCESS", *, callback_id: str | None = None) -> dict[str, Any]:
    """A body as the provider documents it (camelCase)."""
    return {
        "callbackId": f"cb_{uuid.uuid4().hex}" if callback_id is None else callback_id,
        "providerTxnId": txn_id,
        "paymentId": str(uuid.uuid4()),
        "status": status,
        "amount": 12_345,
        "currency": "RUB",
        "occurredAt": datetime.now(UTC).isoformat(),
    }


def signed(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(secret, body, timestamp)}


def now() -> int:
    return int(time.time())


def records_about(kafka: KafkaAccess, txn_id: str) -> list[Record]:
    """Every record on callback-events, up to its end, keyed by or mentioning `txn_id`."""
    return [r for r in read_topic(kafka, CALLBACK_EVENTS) if r.key == txn_id or txn_id.encode() in r.value]


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """An RFC 9457 problem of `status` and type `/problems/<slug>`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = orjson.loads(response.content)
    assert problem["type"] == f"/problems/{slug}" and problem["status"] == status and problem["title"], problem
    return problem


@pytest.fixture
async def http(producer: KafkaProducer) -> AsyncIterator[httpx.AsyncClient]:
    """The service's app on the session's broker (the integration `producer` is idempotent, acks=all)."""
    app = build_app(settings(), producer, source="/paysaga/callback", readiness={"kafka": producer.check_connection})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callback") as client:
        yield client


@pytest.fixture
def unreachable_bootstrap() -> Iterator[KafkaAccess]:
    with dead_bootstrap() as bootstrap:
        yield bootstrap
