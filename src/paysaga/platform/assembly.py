"""The parts most services are built from, so each composition root says only what is its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI

from paysaga.contracts.events import Event
from paysaga.platform.consumer import BatchPreparer, EventConsumer, Handler
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, configure_limits
from paysaga.platform.identity import KeyFormatError, ServiceVerifier
from paysaga.platform.inbox_status import add_inbox_route
from paysaga.platform.kafka import KafkaAccess, KafkaProducer, kafka_access
from paysaga.platform.metrics import outbox_gauges
from paysaga.platform.outbox_status import add_outbox_route
from paysaga.platform.periodic import Periodic
from paysaga.platform.relay import OutboxRelay
from paysaga.platform.retention import Retention
from paysaga.platform.runtime import Service, Worker
from paysaga.platform.secrets import InsecureSecrets
from paysaga.platform.service_auth import protect, protected_routes
from paysaga.platform.settings import (
    DatabaseServiceSettings,
    InboxSettings,
    OutboxSettings,
    PlatformSettings,
    ServiceSettings,
    service_database_url,
)
from paysaga.platform.unit_of_work import UnitOfWork

S = TypeVar("S", bound=Service)


def service_database(name: str, settings: DatabaseServiceSettings, platform: PlatformSettings) -> Database:
    """The service's own database: `<SERVICE>_DATABASE_URL`, else `paysaga_<name>` on the server."""
    dsn = settings.database_url or service_database_url(platform.paysaga_postgres_url, name)
    return Database(
        dsn,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        acquire_timeout=settings.db_acquire_timeout_seconds,
    )


def service_verifier(name: str, platform: PlatformSettings) -> ServiceVerifier:
    """The verifier of the identity tokens addressed to service `name`, from PAYSAGA_SERVICE_KEYS.
    Outside dev mode the service refuses to start without them (it could tell no caller apart)."""
    try:
        verifier = ServiceVerifier.from_text(name, platform.paysaga_service_keys)
    except KeyFormatError as exc:
        raise InsecureSecrets(f"{name}: PAYSAGA_SERVICE_KEYS: {exc}") from exc
    if not verifier.known_callers and platform.paysaga_env != "dev":
        raise InsecureSecrets(
            f"{name}: PAYSAGA_SERVICE_KEYS is not set: the service could not tell its callers apart (SPEC §11)"
        )
    return verifier


def build_service(
    name: str,
    settings: ServiceSettings,
    app: FastAPI,
    *,
    platform: PlatformSettings,
    cls: type[S] = Service,  # type: ignore[assignment]
    **parts: Any,
) -> S:
    """The runnable service: its HTTP app on the settings' address, with the settings' abuse
    limits (body size, requests in flight), its callers' keys, and its parts."""
    configure_limits(
        app, max_body_bytes=settings.max_body_bytes, max_concurrent_requests=settings.max_concurrent_requests
    )
    if protected_routes(app):
        protect(app, service_verifier(name, platform))
    return cls(
        name=name,
        app=app,
        host=settings.host,
        port=settings.port,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
        instance_port=platform.paysaga_instance_port,
        **parts,
    )


@dataclass
class ServiceParts:
    """What a service with its own database is built from, made in one call (`service_parts`):
    the database, a Kafka producer (the relay's, and the consumers' dead letters) and, for a service
    that publishes, the outbox relay on a small pool of its own. `source` is the service's event
    source: every event it writes to its outbox, from a command or an event handler, carries it as
    `ce_source`; it is set here, once."""

    name: str
    source: str
    settings: OutboxSettings | InboxSettings
    platform: PlatformSettings
    kafka: KafkaAccess
    db: Database
    producer: KafkaProducer
    relay_db: Database | None
    relay: OutboxRelay | None

    def unit_of_work(self) -> UnitOfWork:
        """A command handler's transaction (it enters it once and commits)."""
        return UnitOfWork(self.db, source=self.source)

    def consumer(
        self,
        handlers: Mapping[type[Event], Handler],
        *,
        group_id: str,
        fetch_wait_ms: int = 0,
        before_batch: BatchPreparer | None = None,
    ) -> EventConsumer:
        """The service's consumer group; events its handlers raise carry the service's source.

        `fetch_wait_ms` > 0, for a consumer off the payment's critical path: the broker holds each
        fetch up to that long to fill it (bigger batches, fewer transactions and requests, at the
        price of that much latency). `before_batch` runs in each batch's transaction before its
        handlers (EventConsumer)."""
        return EventConsumer(
            service=self.name,
            source=self.source,
            group_id=group_id,
            kafka=self.kafka,
            db=self.db,
            producer=self.producer,
            handlers=handlers,
            before_batch=before_batch,
            **(batching_fetch(fetch_wait_ms) if fetch_wait_ms > 0 else {}),
        )

    def readiness(self, **more: ReadinessCheck) -> dict[str, ReadinessCheck]:
        return {"database": self.db.ping, "kafka": self.producer.check_connection, **more}

    def service(
        self,
        app: FastAPI,
        *,
        cls: type[S] = Service,  # type: ignore[assignment]
        consumers: Sequence[EventConsumer] = (),
        workers: Mapping[str, Worker] | None = None,
        on_close: Sequence[Callable[[], Awaitable[object]]] = (),
        **extra: Any,
    ) -> S:
        """The runnable service, with the retention worker of its outbox and inbox rows (and, for a
        service that publishes, the gauges of its outbox backlog); a service that publishes also serves
        its outbox backlog to the operators (`GET /ops/outbox`), one that consumes tells them which
        events it applied (`GET /ops/inbox`)."""
        if consumers:
            add_inbox_route(app, self.db, service=self.name, groups=[c.group_id for c in consumers])
        if self.relay is not None:
            add_outbox_route(app, self.db)
        databases = [self.db] if self.relay_db is None else [self.db, self.relay_db]
        own = {"retention": retention(self.db, self.settings)}
        if self.relay_db is not None:
            own["outbox-metrics"] = outbox_gauges(
                self.relay_db, every_seconds=self.platform.paysaga_metrics_interval_seconds
            )
        return build_service(
            self.name,
            self.settings,
            app,
            platform=self.platform,
            cls=cls,
            databases=databases,
            producer=self.producer,
            relay=self.relay,
            consumers=list(consumers),
            workers={**(workers or {}), **own},
            on_close=list(on_close),
            **extra,
        )


def service_parts(
    name: str,
    settings: OutboxSettings | InboxSettings,
    platform: PlatformSettings,
    *,
    source: str,
    relay: bool,
    **producer_overrides: Any,
) -> ServiceParts:
    """The database, producer and (with `relay`) outbox relay of a service, from its settings."""
    kafka = kafka_access(platform)
    db = service_database(name, settings, platform)
    producer = KafkaProducer(kafka, client_id=name, **producer_overrides)
    relay_db = Database(db.dsn, min_size=1, max_size=4) if relay else None
    outbox_relay = OutboxRelay(relay_db, producer) if relay_db is not None else None
    return ServiceParts(name, source, settings, platform, kafka, db, producer, relay_db, outbox_relay)


def batching_fetch(wait_ms: int) -> dict[str, int]:
    """Consumer settings: let the broker wait up to `wait_ms` for 1 MiB before it answers a fetch."""
    return {"fetch.wait.max.ms": wait_ms, "fetch.min.bytes": 1 << 20}


def retention(db: Database, settings: OutboxSettings | InboxSettings) -> Periodic:
    """The worker that deletes the published outbox rows and old inbox rows of the service's database."""
    return Retention(
        db,
        outbox_keep_seconds=settings.outbox_retention_hours * 3600 if isinstance(settings, OutboxSettings) else None,
        inbox_keep_seconds=settings.inbox_retention_hours * 3600 if isinstance(settings, InboxSettings) else None,
        every_seconds=settings.retention_interval_seconds,
    ).worker()
