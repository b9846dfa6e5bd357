"""Kafka clients on librdkafka (confluent-kafka): how a process reaches the cluster (address and
credentials), an asyncio-friendly idempotent producer, the consumer configuration, and topic
administration."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from paysaga.contracts.cloudevents import Headers
from paysaga.platform.secrets import InsecureSecrets, Secret, require_secrets, reveal
from paysaga.platform.settings import PlatformSettings

# Every client of ours: after a broker restart, reconnect within a second (librdkafka's default
# backoff grows to 10 s, which would add up to 10 s to every recovery).
CLIENT_DEFAULTS: dict[str, Any] = {"reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 1000}


@dataclass(frozen=True, slots=True)
class KafkaAccess:
    """Where the cluster is and how this process logs in to it: the part of every Kafka client's
    configuration (producer, consumers, admin, probes) that the settings decide, so that the same
    code runs on a local plaintext broker and on a secured cluster."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka configuration of a client of this cluster; `overrides` are the client's own."""
        conf: dict[str, Any] = {
            **CLIENT_DEFAULTS,
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.security_protocol.startswith("SASL_"):
            conf.update(
                {
                    "sasl.mechanism": self.sasl_mechanism,
                    "sasl.username": self.sasl_username,
                    "sasl.password": self.sasl_password,
                }
            )
        for name, value in (
            ("ssl.ca.location", self.ssl_ca_location),
            ("ssl.certificate.location", self.ssl_certificate_location),
            ("ssl.key.location", self.ssl_key_location),
        ):
            if value:
                conf[name] = value
        conf.update(overrides)
        return conf

    def environment(self) -> dict[str, str]:
        """The same access as the environment of a process (the variables `kafka_access` reads)."""
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers, "KAFKA_SECURITY_PROTOCOL": self.security_protocol}
        for name, value in (
            ("KAFKA_SASL_MECHANISM", self.sasl_mechanism),
            ("KAFKA_SASL_USERNAME", self.sasl_username),
            ("KAFKA_SASL_PASSWORD", self.sasl_password),
            ("KAFKA_SSL_CA_LOCATION", self.ssl_ca_location),
            ("KAFKA_SSL_CERTIFICATE_LOCATION", self.ssl_certificate_location),
            ("KAFKA_SSL_KEY_LOCATION", self.ssl_key_location),
        ):
            if value:
                env[name] = value
        return env


def kafka_access(platform: PlatformSettings) -> KafkaAccess:
    """How this process reaches Kafka, from its platform settings (`KAFKA_*`).

    With a `SASL_*` protocol the username must be set, and the password is a secret: outside dev
    mode a missing, short or known one refuses the start (`require_secrets`)."""
    username, password = platform.kafka_sasl_username, None
    if platform.kafka_security_protocol.startswith("SASL_"):
        if not username:
            raise InsecureSecrets(
                f"refusing to start: KAFKA_SASL_USERNAME is not set "
                f"(KAFKA_SECURITY_PROTOCOL={platform.kafka_security_protocol} needs a principal)"
            )
        checked = require_secrets(platform, platform, [Secret("kafka_sasl_password", shared=True)])
        password = reveal(checked.kafka_sasl_password)
    return KafkaAccess(
        bootstrap_servers=platform.kafka_bootstrap_servers,
        security_protocol=platform.kafka_security_protocol,
        sasl_mechanism=platform.kafka_sasl_mechanism,
        sasl_username=username,
        sasl_password=password,
        ssl_ca_location=platform.kafka_ssl_ca_location,
        ssl_certificate_location=platform.kafka_ssl_certificate_location,
        ssl_key_location=platform.kafka_ssl_key_location,
    )


class DeliveryFailed(Exception):
    """The broker did not acknowledge a record."""


class KafkaProducer:
    """Idempotent producer (acks=all, ordered retries); `send` resolves when the broker acknowledged."""

    def __init__(self, kafka: KafkaAccess, *, client_id: str, **overrides: Any) -> None:
        conf = kafka.client_config(
            **{
                "client.id": client_id,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 2,
                "compression.type": "lz4",
                "delivery.timeout.ms": 30000,
                **overrides,
            }
        )
        self._producer = Producer(conf)
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll_loop, name=f"{client_id}-delivery", daemon=True)
        self._poller.start()

    def _poll_loop(self) -> None:
        # poll() returns as soon as a delivery report is served: the timeout only bounds how long an
        # idle producer sleeps (and how late `close` sees the stop), so it wakes twice a second, not 20 times.
        while not self._stop.is_set():
            self._producer.poll(0.5)

    def send(self, topic: str, *, key: str | bytes | None, value: bytes, headers: Headers) -> asyncio.Future[Message]:
        """Queue a record; the returned future resolves on the broker's ack or fails with DeliveryFailed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                loop.call_soon_threadsafe(_set_exception, future, DeliveryFailed(str(err)))
            else:
                loop.call_soon_threadsafe(_set_result, future, msg)

        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=cast(Any, headers), on_delivery=on_delivery)
                return future
            except BufferError:
                # Local queue full: let deliveries drain, then queue again (back-pressure).
                self._producer.poll(0.05)

    async def flush(self, timeout: float = 10.0) -> int:
        return await asyncio.to_thread(self._producer.flush, timeout)

    async def check_connection(self, timeout: float = 3.0) -> None:
        await asyncio.to_thread(self._producer.list_topics, timeout=timeout)

    async def close(self, timeout: float = 10.0) -> None:
        """Wait up to `timeout` for the records in flight, then release the client (its threads and
        connections). Records still unacknowledged then are dropped: their futures fail, so an
        outbox row behind one stays pending and is sent again by the next relay."""
        if self._stop.is_set():
            return  # closed already
        left = await self.flush(timeout)
        self._stop.set()
        await asyncio.to_thread(self._poller.join, 1.0)
        if left:
            self._producer.purge()
        await asyncio.to_thread(self._producer.close)


def _set_result(future: asyncio.Future[Message], msg: Message) -> None:
    if not future.done():
        future.set_result(msg)


def _set_exception(future: asyncio.Future[Message], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)


def consumer_config(kafka: KafkaAccess, group_id: str, **overrides: Any) -> dict[str, Any]:
    """Offsets are stored by our code only after the handler's transaction committed,
    and auto-committed from there: what is committed has always been applied."""
    conf: dict[str, Any] = {
        **kafka.client_config(),
        "group.id": group_id,
        "client.id": group_id,
        "enable.auto.commit": True,
        "auto.commit.interval.ms": 1000,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 1000,
        "max.poll.interval.ms": 300000,
    }
    conf.update(overrides)
    return conf


def ensure_topics(
    kafka: KafkaAccess, topics: Iterable[str], *, partitions: int, replication_factor: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = AdminClient(kafka.client_config())
    existing = set(admin.list_topics(timeout=10).topics)
    wanted = [t for t in topics if t not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=replication_factor) for t in wanted],
        operation_timeout=30,
    )
    for fut in futures.values():
        try:
            fut.result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return wanted
