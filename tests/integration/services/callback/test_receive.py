"""The Callback endpoint (SPEC §4 step 6) against real Kafka: a verified callback becomes exactly one
ProviderCallbackReceived keyed by providerTxnId, acknowledged only once the broker has it; a bad,
stale or missing signature or a malformed body is refused and publishes nothing; no broker, no 2xx."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import httpx
import orjson
import pytest

from paysaga.contracts.cloudevents import parse_headers
from paysaga.contracts.events import ProviderCallbackReceived
from paysaga.contracts.signatures import SIGNATURE_HEADER, compute_signature
from paysaga.platform.kafka import KafkaAccess, KafkaProducer
from paysaga.services.callback.app import build_app
from paysaga.services.callback.handlers import event_id_for
from paysaga.services.provider_sim.callbacks import encode
from paysaga.services.provider_sim.schemas import CallbackPayload
from tests.integration.services.callback.conftest import (
    SECRET,
    TOLERANCE_SECONDS,
    assert_problem,
    callback_json,
    new_txn_id,
    now,
    records_about,
    settings,
    signed,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration
SOURCE = "/paysaga/callback"  # the event source the composition root gives Callback

PATH = "/v1/provider/callbacks"


async def post(http: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post(PATH, content=body, headers=headers)


async def deliver_good_one(http: httpx.AsyncClient, txn_id: str) -> str:
    """A correctly signed SUCCESS for `txn_id`; its callbackId."""
    body = callback_json(txn_id)
    response = await post(http, orjson.dumps(body), signed(orjson.dumps(body)))
    assert response.status_code == 200, response.text
    return body["callbackId"]


def assert_only(infra: Infra, txn_id: str, callback_id: str) -> None:
    """callback-events holds, up to its end, exactly the one record of `callback_id` about `txn_id`."""
    records = records_about(infra.kafka, txn_id)
    assert [(r.key, r.headers["ce_id"]) for r in records] == [(txn_id, event_id_for(callback_id))]


@pytest.mark.parametrize("status", ["SUCCESS", "FAILED"])
async def test_a_signed_callback_is_published_once_keyed_by_provider_txn_id_before_the_2xx(
    infra: Infra, http: httpx.AsyncClient, status: str
) -> None:
    txn_id = new_txn_id()
    # The exact bytes and signature the provider (simulator) sends.
    payload = CallbackPayload(
        callback_id=f"cb_{uuid.uuid4().hex}",
        provider_txn_id=txn_id,
        payment_id=str(uuid.uuid4()),
        status=status,
        amount=12_345,
        currency="RUB",
        occurred_at=datetime.fromisoformat("2025-03-01T09:00:00+00:00"),
    )
    body = encode(payload)

    response = await post(http, body, signed(body))

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True}
    # The 2xx came after the broker's ack: the record is on the topic now, without waiting.
    [record] = records_about(infra.kafka, txn_id)
    assert record.key == txn_id
    event = ProviderCallbackReceived.model_validate_json(record.value)
    assert (event.provider_txn_id, event.status) == (txn_id, status)
    assert set(record.json) == {"providerTxnId", "status", "receivedAt"}
    meta = parse_headers(record.headers)
    assert (meta.type, meta.source) == ("ProviderCallbackReceived", SOURCE)
    assert meta.id == event_id_for(payload.callback_id)
    assert record.headers["content-type"] == "application/json"


async def test_a_retried_callback_carries_the_same_event_id_and_another_callback_a_new_one(
    infra: Infra, http: httpx.AsyncClient
) -> None:
    txn_id = new_txn_id()
    first = callback_json(txn_id)
    for _ in range(2):  # the provider retries one callback (a new signature, the same callbackId)
        response = await post(http, orjson.dumps(first), signed(orjson.dumps(first)))
        assert response.status_code == 200, response.text
    duplicate = callback_json(txn_id)  # DUPLICATE_CALLBACK: a second callback of the same outcome
    response = await post(http, orjson.dumps(duplicate), signed(orjson.dumps(duplicate)))
    assert response.status_code == 200, response.text

    records = records_about(infra.kafka, txn_id)
    assert [r.key for r in records] == [txn_id] * 3
    assert [r.headers["ce_id"] for r in records] == [
        event_id_for(first["callbackId"]),
        event_id_for(first["callbackId"]),
        event_id_for(duplicate["callbackId"]),
    ]
    assert len({r.partition for r in records}) == 1  # one key, one partition: Payment sees them in order


def _other_secret(body: bytes) -> dict[str, str]:
    return signed(body, secret="not-the-provider-secret-0123456789abcdefgh")


def _no_header(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _empty_header(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: ""}


def _garbage_header(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: "sha256=deadbeef"}


def _no_timestamp(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: f"v1={compute_signature(SECRET, now(), body)}"}


def _stale(body: bytes) -> dict[str, str]:
    # Older than the service's tolerance (120 s), though within the library default (300 s).
    return signed(body, timestamp=now() - TOLERANCE_SECONDS - 60)


def _from_the_future(body: bytes) -> dict[str, str]:
    return signed(body, timestamp=now() + TOLERANCE_SECONDS + 60)


def _signature_of_another_body(body: bytes) -> dict[str, str]:
    return signed(body.replace(b'"SUCCESS"', b'"FAILED"'))


def _timestamp_swapped(body: bytes) -> dict[str, str]:
    # A valid signature made at t, presented with another t: the timestamp is part of what is signed.
    t = now()
    return {"Content-Type": "application/json", SIGNATURE_HEADER: f"t={t - 1},v1={compute_signature(SECRET, t, body)}"}


@pytest.mark.parametrize(
    "headers_for",
    [
        _other_secret,
        _no_header,
        _empty_header,
        _garbage_header,
        _no_timestamp,
        _stale,
        _from_the_future,
        _signature_of_another_body,
        _timestamp_swapped,
    ],
)
async def test_a_callback_without_a_valid_signature_is_401_and_publishes_nothing(
    infra: Infra, http: httpx.AsyncClient, headers_for: Callable[[bytes], dict[str, str]]
) -> None:
    txn_id = new_txn_id()
    body = orjson.dumps(callback_json(txn_id))

    response = await post(http, body, headers_for(body))

    problem = assert_problem(response, 401, "invalid-signature")
    assert SIGNATURE_HEADER in problem["detail"]
    # A later good callback of the same transaction is the only record about it.
    good = await deliver_good_one(http, txn_id)
    assert_only(infra, txn_id, good)


@pytest.mark.parametrize(
    "header",
    [
        "t=\u00b2,v1={sig}",  # a superscript two: str.isdigit() says yes, int() says no
        "t={t}\u00b9,v1={sig}",
        "t=,v1={sig}",
        "t=12x,v1={sig}",
        "t= {t},v1={sig}",
        "t=-{t},v1={sig}",
        "t=" + "9" * 5000 + ",v1={sig}",  # beyond int()'s digit limit
        "t={t},v1=\u00e9{sig}",  # non-ASCII in the signature: hmac.compare_digest refuses it
        "t={t},v1=\u00ff",
    ],
)
async def test_a_malformed_signature_header_is_401_not_500(infra: Infra, http: httpx.AsyncClient, header: str) -> None:
    txn_id = new_txn_id()
    body = orjson.dumps(callback_json(txn_id))
    t = now()
    value = header.format(t=t, sig=compute_signature(SECRET, t, body)).encode("latin-1")  # as a client may send it

    response = await http.post(
        PATH, content=body, headers=[(b"Content-Type", b"application/json"), (SIGNATURE_HEADER.encode(), value)]
    )

    assert_problem(response, 401, "invalid-signature")
    good = await deliver_good_one(http, txn_id)
    assert_only(infra, txn_id, good)


async def test_a_signature_within_the_tolerance_is_accepted(infra: Infra, http: httpx.AsyncClient) -> None:
    txn_id = new_txn_id()
    body = callback_json(txn_id)
    raw = orjson.dumps(body)
    response = await post(http, raw, signed(raw, timestamp=now() - TOLERANCE_SECONDS // 2))
    assert response.status_code == 200, response.text
    assert_only(infra, txn_id, body["callbackId"])


def _not_json(txn_id: str) -> bytes:
    return f'{{"callbackId": "cb-1", "providerTxnId": "{txn_id}", "status": "SUCC'.encode()


def _unknown_status(txn_id: str) -> bytes:
    return orjson.dumps(callback_json(txn_id, status="MAYBE"))


def _no_callback_id(txn_id: str) -> bytes:
    body = callback_json(txn_id)
    del body["callbackId"]
    return orjson.dumps(body)


def _empty_callback_id(txn_id: str) -> bytes:
    return orjson.dumps(callback_json(txn_id, callback_id=""))


def _not_an_object(txn_id: str) -> bytes:
    return orjson.dumps([txn_id, "SUCCESS"])


def _txn_id_not_a_string(txn_id: str) -> bytes:
    return orjson.dumps({**callback_json(txn_id), "providerTxnId": {"id": txn_id}})


@pytest.mark.parametrize(
    "body_for", [_not_json, _unknown_status, _no_callback_id, _empty_callback_id, _not_an_object, _txn_id_not_a_string]
)
async def test_a_signed_but_malformed_body_is_422_and_publishes_nothing(
    infra: Infra, http: httpx.AsyncClient, body_for: Callable[[str], bytes]
) -> None:
    txn_id = new_txn_id()
    body = body_for(txn_id)

    response = await post(http, body, signed(body))

    assert_problem(response, 422, "validation-error")
    good = await deliver_good_one(http, txn_id)
    assert_only(infra, txn_id, good)


async def test_a_malformed_body_with_a_bad_signature_is_401(infra: Infra, http: httpx.AsyncClient) -> None:
    """The signature is checked first: an unauthenticated caller learns nothing about the body's rules."""
    txn_id = new_txn_id()
    body = _unknown_status(txn_id)
    response = await post(http, body, _other_secret(body))
    assert_problem(response, 401, "invalid-signature")
    assert records_about(infra.kafka, txn_id) == []


async def test_without_a_broker_acknowledgement_the_answer_is_503_not_2xx(unreachable_bootstrap: KafkaAccess) -> None:
    """The broker never answers: the service gives up after its publish timeout (librdkafka would
    still be retrying) and tells the provider to retry."""
    producer = KafkaProducer(
        unreachable_bootstrap, client_id="callback-test-no-broker", **{"delivery.timeout.ms": 3000}
    )
    app = build_app(
        settings(publish_timeout_seconds=0.5), producer, source=SOURCE, readiness={"kafka": producer.check_connection}
    )
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callback") as http:
            body = orjson.dumps(callback_json(new_txn_id()))
            response = await post(http, body, signed(body))
            problem = assert_problem(response, 503, "service-unavailable")
            assert response.headers["retry-after"] == "1"
            assert "retry" in problem["detail"]
            ready = await http.get("/readyz")
            assert_problem(ready, 503, "not-ready")
            assert ready.json()["checks"]["kafka"] == "failing"  # no hosts or errors in the answer
    finally:
        await producer.close(timeout=5)


async def test_a_delivery_the_broker_refuses_is_503_not_2xx(unreachable_bootstrap: KafkaAccess) -> None:
    """The producer itself gives up (delivery timeout) before the service's publish timeout."""
    producer = KafkaProducer(unreachable_bootstrap, client_id="callback-test-refused", **{"delivery.timeout.ms": 500})
    app = build_app(settings(publish_timeout_seconds=60), producer, source=SOURCE, readiness={})
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callback") as http:
            body = orjson.dumps(callback_json(new_txn_id()))
            response = await post(http, body, signed(body))
            assert_problem(response, 503, "service-unavailable")
            assert response.headers["retry-after"] == "1"
    finally:
        await producer.close(timeout=5)


async def test_the_service_is_ready_with_its_broker(http: httpx.AsyncClient, producer: KafkaProducer) -> None:
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"kafka": "ok"}}
