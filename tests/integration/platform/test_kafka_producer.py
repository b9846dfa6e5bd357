"""KafkaProducer.close: waits for what is in flight, then releases the librdkafka client."""

from __future__ import annotations

import uuid

import pytest

from paysaga.contracts.topics import PAYMENT_EVENTS
from paysaga.platform.kafka import DeliveryFailed, KafkaProducer
from tests.support.infra import Infra
from tests.support.kafka import dead_bootstrap, wait_for_records

pytestmark = pytest.mark.integration


async def test_close_delivers_what_is_in_flight_then_releases_the_client(infra: Infra) -> None:
    producer = KafkaProducer(infra.kafka, client_id="test-close")
    key = f"close-{uuid.uuid4()}"
    delivery = producer.send(PAYMENT_EVENTS, key=key, value=b"{}", headers=[])
    await producer.close()
    assert delivery.done() and delivery.exception() is None
    assert wait_for_records(infra.kafka, PAYMENT_EVENTS, lambda r: r.key == key)
    await producer.close()  # a second close is a no-op
    with pytest.raises(RuntimeError, match="closed"):  # the client is gone, not merely idle
        producer.send(PAYMENT_EVENTS, key=key, value=b"{}", headers=[])


async def test_close_drops_what_the_broker_never_acknowledged() -> None:
    with dead_bootstrap() as bootstrap:
        producer = KafkaProducer(bootstrap, client_id="test-close-unreachable", **{"delivery.timeout.ms": 60_000})
        delivery = producer.send(PAYMENT_EVENTS, key="k", value=b"{}", headers=[])
        await producer.close(timeout=0.5)  # long before the delivery timeout
    assert isinstance(delivery.exception(), DeliveryFailed)  # its outbox row would stay pending
    with pytest.raises(RuntimeError, match="closed"):
        producer.send(PAYMENT_EVENTS, key="k", value=b"{}", headers=[])
