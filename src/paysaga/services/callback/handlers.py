"""Turn a verified provider callback into ProviderCallbackReceived on callback-events.

The event id is derived from the provider's callbackId, so the provider's retries of one callback
carry one ce_id and Payment's inbox applies it once. Published straight to Kafka (this service
keeps no state): the provider gets its 2xx only after the broker acknowledged, else it retries.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import structlog

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import ProviderCallbackReceived
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.tracing import current_traceparent, end_send, start_send
from paysaga.services.callback.schemas import ProviderCallback

log = structlog.get_logger("paysaga.callback")

_EVENT_ID_NAMESPACE = uuid.UUID("6f1c9a52-4b8e-4c1f-9a57-2f0d8f3d7c11")


def event_id_for(callback_id: str) -> str:
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, callback_id))


async def publish_callback(callback: ProviderCallback, producer: KafkaProducer, *, source: str, timeout: float) -> str:
    """Publish and wait for the broker's ack; the event id. Raises on failure or timeout."""
    now = datetime.now(UTC)
    event = ProviderCallbackReceived(provider_txn_id=callback.provider_txn_id, status=callback.status, received_at=now)
    event_id = event_id_for(callback.callback_id)
    send, traceparent = start_send(
        event.topic, key=event.key, event_id=event_id, event_type=event.type_name(), traceparent=current_traceparent()
    )
    meta = EventMeta(id=event_id, type=event.type_name(), source=source, time=now, traceparent=traceparent)
    try:
        delivery = producer.send(event.topic, key=event.key, value=event.to_json(), headers=meta.to_headers())
        end_send(send, await asyncio.wait_for(delivery, timeout))
    except BaseException as exc:
        end_send(send, exc)
        raise
    log.debug("callback.published", provider_txn_id=callback.provider_txn_id, status=callback.status, event_id=meta.id)
    return meta.id
