"""Who publishes and who consumes each event: the seeds' Messaging document (SPEC §2, §3) as code.

The one map the platform's messaging permissions come from: each service's Kafka ACLs (what its
principal may write and read, `devstack.kafka_principals`), the `ce_source` a consumer accepts for
each event type (`platform.consumer`), and the AsyncAPI document. Tests hold it to what the
services' code actually publishes (`ce_source` of their records) and handles (their handler maps).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paysaga.contracts.events import (
    ALL_EVENTS,
    CustomerCreated,
    Event,
    PaymentCompleted,
    PaymentFailed,
    PaymentInitiated,
    ProviderCallbackReceived,
    WalletToppedUp,
)
from paysaga.contracts.topics import ALL_TOPICS, dead_letter_topic

# The one service that writes each event type.
PUBLISHERS: Mapping[type[Event], str] = {
    PaymentInitiated: "wallet",
    PaymentCompleted: "payment",
    PaymentFailed: "payment",
    ProviderCallbackReceived: "callback",
    CustomerCreated: "customer",
    WalletToppedUp: "wallet",
}


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a service consumes, in which consumer group (the default of its `<SERVICE>_CONSUMER_GROUP`)."""

    group: str
    events: tuple[type[Event], ...]
    # False for the DWH: it stores every record as it came (a forged or garbled one too, for the
    # analysts to see) and applies none, so it neither checks sources nor dead-letters.
    applies: bool = True
    # True for the DWH: it also stores the dead letters, for the operators' timeline.
    reads_dead_letters: bool = False

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(t for t in ALL_TOPICS if any(e.topic == t for e in self.events))

    @property
    def read_topics(self) -> tuple[str, ...]:
        """What its principal reads: its topics, and their dead-letter topics if it stores those."""
        return (*self.topics, *(dead_letter_topic(t) for t in self.topics if self.reads_dead_letters))


_PAYMENT_SAGA = (PaymentInitiated, PaymentCompleted, PaymentFailed)

SUBSCRIPTIONS: Mapping[str, Subscription] = {
    "payment": Subscription("payment", (PaymentInitiated, ProviderCallbackReceived)),
    "query": Subscription("query", _PAYMENT_SAGA),
    "wallet": Subscription("wallet", (CustomerCreated, PaymentCompleted, PaymentFailed)),
    "notification": Subscription("notification", _PAYMENT_SAGA),
    "merchant_callback": Subscription("merchant-callback", _PAYMENT_SAGA),
    "core_banking": Subscription("core-banking", (PaymentInitiated, PaymentCompleted, WalletToppedUp)),
    "antifraud": Subscription("anti-fraud", _PAYMENT_SAGA),
    "dwh": Subscription("dwh", ALL_EVENTS, applies=False, reads_dead_letters=True),
}


def event_source(service: str) -> str:
    """The `ce_source` of the events a service writes (its composition root passes it)."""
    return "/paysaga/" + service.replace("_", "-")


# The only `ce_source` a consumer accepts for each event type: its publisher's.
EXPECTED_SOURCES: Mapping[str, str] = {e.type_name(): event_source(s) for e, s in PUBLISHERS.items()}


# The operators' service reads the consumer groups' lag and the dead letters, and replays a dead
# letter to its original topic; it publishes and consumes no event of its own.
OPERATOR_SERVICE = "ops"
# The group id its dead-letter reader names (librdkafka wants one): it assigns partitions and
# never joins nor commits in it.
OPERATOR_READER_GROUP = "ops-dead-letter-reader"


def parties() -> list[str]:
    """Every service that talks to Kafka: each has a principal of that name."""
    return sorted(set(PUBLISHERS.values()) | set(SUBSCRIPTIONS) | {OPERATOR_SERVICE})


def published_topics(service: str) -> list[str]:
    """The topics a service writes its events to."""
    return [t for t in ALL_TOPICS if any(e.topic == t and s == service for e, s in PUBLISHERS.items())]


def dead_letter_topics(service: str) -> list[str]:
    """The dead-letter topics a service writes: one per topic it applies records from."""
    subscription = SUBSCRIPTIONS.get(service)
    if subscription is None or not subscription.applies:
        return []
    return [dead_letter_topic(t) for t in subscription.topics]


def consumers_of(topic: str) -> list[str]:
    """The consumer groups of a topic, in the order of `SUBSCRIPTIONS`."""
    return [s.group for s in SUBSCRIPTIONS.values() if topic in s.topics]
