"""The services' Kafka ACLs, derived from the contract: each principal may write exactly what its
service publishes (and dead-letters), and read exactly what it consumes, in its own group."""

from __future__ import annotations

import pytest

from paysaga.contracts.bus import PUBLISHERS, SUBSCRIPTIONS, parties
from paysaga.contracts.topics import ALL_TOPICS, dead_letter_topic
from paysaga.devstack.kafka_principals import Grant, acl_commands, all_grants, grants, service_environments

pytestmark = pytest.mark.unit


def _table(service: str) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = {(g.resource, g.name, g.operation) for g in grants(service)}
    assert {g.principal for g in grants(service)} == {f"User:{service}"}
    return found


def test_wallet_writes_payment_initiated_and_its_dead_letters_and_reads_what_it_consumes() -> None:
    assert _table("wallet") == {
        ("TOPIC", "payment-events", "WRITE"),
        ("TOPIC", "payment-events", "DESCRIBE"),
        ("TOPIC", "wallet-events", "WRITE"),
        ("TOPIC", "wallet-events", "DESCRIBE"),
        ("TOPIC", "payment-events.dlq", "WRITE"),
        ("TOPIC", "payment-events.dlq", "DESCRIBE"),
        ("TOPIC", "customer-events.dlq", "WRITE"),
        ("TOPIC", "customer-events.dlq", "DESCRIBE"),
        ("TOPIC", "payment-events", "READ"),
        ("TOPIC", "customer-events", "READ"),
        ("GROUP", "wallet", "READ"),
    }


def test_notification_writes_nothing_but_its_dead_letters() -> None:
    assert _table("notification") == {
        ("TOPIC", "payment-events.dlq", "WRITE"),
        ("TOPIC", "payment-events.dlq", "DESCRIBE"),
        ("TOPIC", "payment-events", "READ"),
        ("GROUP", "notification", "READ"),
    }


def test_callback_and_customer_only_write_their_topic() -> None:
    assert _table("callback") == {("TOPIC", "callback-events", "WRITE"), ("TOPIC", "callback-events", "DESCRIBE")}
    assert _table("customer") == {("TOPIC", "customer-events", "WRITE"), ("TOPIC", "customer-events", "DESCRIBE")}


def test_the_dwh_reads_every_topic_and_its_dead_letters_and_writes_none() -> None:
    assert _table("dwh") == {
        *(("TOPIC", t, "READ") for t in ALL_TOPICS),
        *(("TOPIC", t + ".dlq", "READ") for t in ALL_TOPICS),
        ("GROUP", "dwh", "READ"),
    }


def test_the_writers_of_each_topic_are_exactly_its_publishers_and_of_each_dead_letter_topic_its_consumers() -> None:
    writers: dict[str, set[str]] = {}
    for g in all_grants():
        if g.operation == "WRITE":
            writers.setdefault(g.name, set()).add(g.principal.removeprefix("User:"))
    for topic in ALL_TOPICS:
        publishers = {s for e, s in PUBLISHERS.items() if e.topic == topic}
        assert writers.get(topic, set()) == publishers | {"ops"}, topic  # ops: a replay, audited
        appliers = {s for s, sub in SUBSCRIPTIONS.items() if sub.applies and topic in sub.topics}
        assert writers[dead_letter_topic(topic)] == appliers, topic
    # Nobody else can publish a payout or a release (the operators' replays put back dead letters only).
    assert writers["payment-events"] == {"wallet", "payment", "ops"}


def test_each_principal_reads_exactly_its_subscription_and_only_in_its_group() -> None:
    for service in set(parties()) - {"ops"}:
        reads = {(g.resource, g.name) for g in grants(service) if g.operation == "READ"}
        subscription = SUBSCRIPTIONS.get(service)
        expected = set() if subscription is None else {("TOPIC", t) for t in subscription.read_topics}
        expected |= set() if subscription is None else {("GROUP", subscription.group)}
        assert reads == expected, service


def test_no_grant_is_wider_than_one_literal_resource() -> None:
    """No wildcard, prefix, cluster or transactional-id ACL: an idempotent producer needs none (KIP-679)."""
    for g in all_grants():
        assert g.resource in ("TOPIC", "GROUP") and "*" not in g.name
        assert Grant.of(g.binding()) == g  # and it survives the round trip through the broker's form


def test_each_service_gets_only_its_own_credentials() -> None:
    passwords = {p: f"password-of-{p}" for p in parties()}
    envs = service_environments("127.0.0.1:9092", passwords)
    assert set(envs) == set(parties())
    for service, env in envs.items():
        assert env["KAFKA_SASL_USERNAME"] == service
        assert env["KAFKA_SASL_PASSWORD"] == f"password-of-{service}"
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def test_the_acls_print_as_kafka_acls_commands_for_another_cluster() -> None:
    commands = acl_commands("kafka:9093", "admin.properties")
    assert len(commands) == len(all_grants())
    assert (
        "kafka-acls.sh --bootstrap-server kafka:9093 --command-config admin.properties --add "
        "--allow-principal User:wallet --operation Write --topic payment-events"
    ) in commands
    assert any(c.endswith("--allow-principal User:dwh --operation Read --group dwh") for c in commands)


def test_the_operators_service_describes_every_group_reads_the_dead_letters_and_may_replay() -> None:
    table = _table("ops")
    assert {("GROUP", sub.group, "DESCRIBE") for sub in SUBSCRIPTIONS.values()} <= table
    assert {("TOPIC", t + ".dlq", "READ") for t in ALL_TOPICS} <= table
    assert {("TOPIC", t, "WRITE") for t in ALL_TOPICS} <= table
    assert not {(r, n) for r, n, op in table if op == "READ" and r == "TOPIC" and not n.endswith(".dlq")}
    assert {(r, n) for r, n, op in table if r == "GROUP" and op == "READ"} == {("GROUP", "ops-dead-letter-reader")}
