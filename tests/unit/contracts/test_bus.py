"""The contract of who publishes and who consumes what (`contracts.bus`): complete, and the same as
the services' own settings say. (What each built service actually consumes is checked against it in
`tests/integration/services/test_composition_roots.py`; the source each type is published with, in
`tests/e2e/test_payment_saga.py`.)"""

from __future__ import annotations

import importlib

import pytest
from pydantic_settings import BaseSettings

from paysaga.contracts.bus import (
    EXPECTED_SOURCES,
    PUBLISHERS,
    SUBSCRIPTIONS,
    consumers_of,
    dead_letter_topics,
    event_source,
    parties,
    published_topics,
)
from paysaga.contracts.events import ALL_EVENTS
from paysaga.contracts.topics import ALL_TOPICS
from paysaga.devstack.catalog import SERVICES

pytestmark = pytest.mark.unit


def test_every_event_has_one_publisher_and_every_topic_a_consumer() -> None:
    assert set(PUBLISHERS) == set(ALL_EVENTS)
    assert set(EXPECTED_SOURCES) == {e.type_name() for e in ALL_EVENTS}
    assert all(consumers_of(t) for t in ALL_TOPICS)
    assert SUBSCRIPTIONS["dwh"].topics == ALL_TOPICS  # the DWH reads every topic


def test_the_parties_are_services_of_the_platform_and_name_their_source_so() -> None:
    assert set(parties()) <= {s.name for s in SERVICES}
    assert "bff" not in parties() and "provider_sim" not in parties()  # they never talk to Kafka
    assert event_source("merchant_callback") == "/paysaga/merchant-callback"
    assert EXPECTED_SOURCES["PaymentFailed"] == "/paysaga/payment"
    assert EXPECTED_SOURCES["PaymentInitiated"] == "/paysaga/wallet"


def test_what_each_service_writes() -> None:
    assert published_topics("wallet") == ["payment-events", "wallet-events"]
    assert published_topics("payment") == ["payment-events"]
    assert published_topics("notification") == []
    assert dead_letter_topics("wallet") == ["payment-events.dlq", "customer-events.dlq"]
    assert dead_letter_topics("dwh") == []  # it stores every record as it came: nothing to dead-letter
    assert dead_letter_topics("customer") == []  # it consumes nothing


def _settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"paysaga.services.{service}.settings")
    [cls] = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, BaseSettings) and "consumer_group" in v.model_fields
    ]
    return cls


@pytest.mark.parametrize("service", sorted(SUBSCRIPTIONS))
def test_each_service_consumes_in_the_group_the_contract_grants(service: str) -> None:
    """The ACLs allow a service's principal its contract group: its settings' default must be that group."""
    assert _settings_class(service).model_fields["consumer_group"].default == SUBSCRIPTIONS[service].group
