"""Attacks through Kafka (SPEC §11): whoever reaches the broker can publish or read only what its
principal is granted (one per service, from `contracts.bus`), and a record that names another
publisher than its type's is never applied. Against the session's secured broker and the running
platform, as `make run` sets them up."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import PaymentFailed, PaymentInitiated, Recipient
from paysaga.contracts.topics import CALLBACK_EVENTS, CUSTOMER_EVENTS, PAYMENT_EVENTS, dead_letter_topic
from paysaga.devstack.kafka_principals import service_access
from paysaga.devstack.secrets import kafka_passwords
from paysaga.platform.kafka import KafkaAccess
from tests.support.infra import Infra
from tests.support.kafka import produce_raw, publisher_meta, wait_for_records
from tests.support.platform import RunningPlatform
from tests.support.saga import Customer, check_invariants, new_account, register

pytestmark = pytest.mark.e2e


def as_service(infra: Infra, service: str, *, password: str | None = None) -> KafkaAccess:
    """The service's principal, with its own password (the one its process gets) or another."""
    return service_access(infra.bootstrap, service, password or kafka_passwords(infra.root)[service])


def produce_as(kafka: KafkaAccess, topic: str, key: str, value: bytes, headers: list[tuple[str, bytes]]) -> KafkaError:
    """Produce one record as the services do (idempotent, acks=all); the delivery's error."""
    reports: list[KafkaError | None] = []
    producer = Producer(kafka.client_config(**{"enable.idempotence": True, "acks": "all", "log_level": 0}))
    producer.produce(
        topic, key=key, value=value, headers=cast(Any, headers), on_delivery=lambda err, _: reports.append(err)
    )
    producer.flush(15)
    assert reports and reports[0] is not None, f"the broker accepted a record on {topic} from {kafka.sasl_username}"
    return reports[0]


@pytest.mark.parametrize(
    ("service", "event"),
    [
        # A release of money already paid out: only Payment publishes PaymentFailed.
        (
            "notification",
            PaymentFailed(
                payment_id=str(uuid.uuid4()), provider_txn_id=None, error_code="TIMEOUT", completed_at=datetime.now(UTC)
            ),
        ),
        # A payout with no debit: only Wallet publishes PaymentInitiated.
        (
            "callback",
            PaymentInitiated(
                payment_id=str(uuid.uuid4()),
                wallet_id=str(uuid.uuid4()),
                user_id=str(uuid.uuid4()),
                amount=1_000_000_00,
                currency="RUB",
                recipient=Recipient(account_number=new_account(), bank_bic="044525225", name="Mallory"),
                created_at=datetime.now(UTC),
            ),
        ),
    ],
)
def test_a_service_cannot_publish_to_a_topic_it_does_not_publish_to(
    infra: Infra, service: str, event: PaymentFailed | PaymentInitiated
) -> None:
    error = produce_as(
        as_service(infra, service), PAYMENT_EVENTS, event.key, event.to_json(), publisher_meta(event).to_headers()
    )
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error


def test_a_service_cannot_read_a_topic_it_does_not_consume_nor_in_another_group(infra: Infra) -> None:
    wallet = as_service(infra, "wallet")
    # Its topics are all it can even see.
    admin = AdminClient(wallet.client_config())
    visible = set(admin.list_topics(timeout=10).topics)
    assert {PAYMENT_EVENTS, CUSTOMER_EVENTS} <= visible and CALLBACK_EVENTS not in visible, visible

    # Reading callback-events (Payment's input), without joining any group: the broker will not even
    # say where its partitions are, so nothing can be fetched.
    consumer = Consumer(wallet.client_config(**{"group.id": "wallet", "enable.auto.commit": False, "log_level": 0}))
    try:
        topic = consumer.list_topics(CALLBACK_EVENTS, timeout=10).topics[CALLBACK_EVENTS]
        assert topic.error is not None and topic.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, topic.error
        consumer.assign([TopicPartition(CALLBACK_EVENTS, p, OFFSET_BEGINNING) for p in range(6)])
        assert [m for m in consumer.consume(100, timeout=3) if not m.error()] == []
    finally:
        consumer.close()

    # Reading its own topic in Payment's consumer group (taking Payment's records from it): refused.
    consumer = Consumer(wallet.client_config(**{"group.id": "payment", "log_level": 0}))
    try:
        consumer.subscribe([PAYMENT_EVENTS])
        assert _first_error(consumer) == KafkaError.GROUP_AUTHORIZATION_FAILED
    finally:
        consumer.close()


def _first_error(consumer: Consumer, timeout: float = 20) -> int:
    """The code of the first error the consumer reports (it must get no record)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        error = msg.error()
        assert error is not None, f"read a record of {msg.topic()}"
        return error.code()
    raise AssertionError(f"no error within {timeout} s")


def test_a_wrong_password_is_refused(infra: Infra) -> None:
    errors: list[KafkaError] = []
    admin = AdminClient(
        as_service(infra, "wallet", password="not-the-wallet-password-" + "x" * 20).client_config(
            error_cb=errors.append, log_level=0
        )
    )
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)
    deadline = time.monotonic() + 10
    while not any(e.code() == KafkaError._AUTHENTICATION for e in errors):
        assert time.monotonic() < deadline, errors
        admin.poll(0.2)  # serves error_cb
    # Nor does one get in without SASL at all.
    plaintext = AdminClient(KafkaAccess(infra.bootstrap).client_config(log_level=0, **{"socket.timeout.ms": 3000}))
    with pytest.raises(KafkaException):
        plaintext.list_topics(timeout=3)


@pytest.fixture
def sim(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as c:
        c.delete("/_sim/rules")
        yield c
        c.delete("/_sim/rules")


@pytest.fixture
def customer(platform: RunningPlatform) -> Iterator[Customer]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        yield register(client, top_up=1_000_000)


async def test_a_forged_payment_failed_is_dead_lettered_and_releases_nothing(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    """A PaymentFailed that names Notification as its source (written here by the super user: as if
    a principal that may write payment-events had been taken over), while the provider still pays:
    every consumer dead-letters it with the reason, Wallet keeps the money reserved and pays it out
    once; the saga completes as if the forgery had never been."""
    account = new_account()
    rule = {"accountNumber": account, "outcome": "SUCCESS", "delayMs": 4000}  # held at the provider
    assert sim.put("/_sim/rules", json={"rules": [rule]}).status_code == 200
    response = customer.pay(250_00, account)
    assert response.status_code == 202, response.text
    pid = response.json()["paymentId"]
    assert customer.wallet()["reserved"] == 250_00

    forged = PaymentFailed(
        payment_id=pid, provider_txn_id=None, error_code="PROVIDER_DECLINED", completed_at=datetime.now(UTC)
    )
    meta = EventMeta(id=str(uuid.uuid4()), type="PaymentFailed", source="/paysaga/notification", time=datetime.now(UTC))
    produce_raw(infra.kafka, PAYMENT_EVENTS, key=pid, value=forged.to_json(), headers=meta.to_headers())

    appliers = {"wallet", "query", "notification", "merchant-callback", "anti-fraud"}  # who handle PaymentFailed
    dead = wait_for_records(
        infra.kafka,
        dead_letter_topic(PAYMENT_EVENTS),
        lambda r: r.key == pid and r.headers.get("ce_id") == meta.id,
        count=len(appliers),
    )
    assert {r.headers["dlq_consumer_group"] for r in dead} == appliers
    assert {r.headers["dlq_reason"] for r in dead} == {"unexpected-source"}
    assert all("PaymentFailed is published by /paysaga/payment" in r.headers["dlq_error"] for r in dead)
    # Wallet has passed the forged record (it dead-lettered it): the money is still reserved, not released.
    wallet = customer.wallet()
    assert (wallet["reserved"], wallet["available"]) == (250_00, 1_000_000 - 250_00), wallet
    assert customer.payment(pid)["status"] == "PENDING"

    assert customer.wait_final(pid)["status"] == "COMPLETED"
    settled = customer.settled_wallet()
    assert (settled["balance"], settled["reserved"]) == (1_000_000 - 250_00, 0)
    await check_invariants(infra, platform.url("provider_sim"), [pid])  # paid out once, never released
    assert orjson.loads(dead[0].value)["paymentId"] == pid  # kept as it came, for an operator to look at
