"""Notification against real PostgreSQL and Kafka: its own database, its consumer in a fresh group,
its dispatcher with fresh simulated gateways, and its HTTP app, all in this process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.services.notification.app import build_app
from paysaga.services.notification.consumers import build_handlers
from paysaga.services.notification.dispatcher import Dispatcher
from paysaga.services.notification.domain import Channel
from paysaga.services.notification.gateways import SimulatedGateway
from paysaga.services.notification.main import build_dispatcher
from paysaga.services.notification.settings import NotificationSettings
from tests.support.db import connected
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

# Fast retries and short timeouts, so that tests see several attempts in a second or two.
FAST = {
    "max_attempts": 3,
    "retry_initial_seconds": 0.05,
    "retry_max_seconds": 0.2,
    "sms_timeout_seconds": 2.0,
    "push_timeout_seconds": 2.0,
    "lease_seconds": 10.0,
    "worker_poll_seconds": 0.1,
    "shutdown_grace_seconds": 1.0,
}


@pytest.fixture(scope="session")
async def notification_dsn(infra: Infra) -> str:
    """Created and migrated by the session's `infra` fixture."""
    return infra.dsns["notification"]


@pytest.fixture
async def db(notification_dsn: str) -> AsyncIterator[Database]:
    async with connected(notification_dsn, max_size=20) as database:
        yield database


@pytest.fixture(autouse=True)
async def _park_leftovers(db: Database) -> None:
    """Earlier tests leave deliveries in flight (a stuck gateway, say): give them up, so that each
    test's dispatcher and gateways only see the notifications of its own payments."""
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE notifications SET status = 'FAILED', last_error = 'parked by the test setup',"
            " next_attempt_at = NULL, lease_until = NULL, lease_token = NULL WHERE status = 'PENDING'"
        )


@pytest.fixture
def gateways() -> dict[Channel, SimulatedGateway]:
    return {channel: SimulatedGateway(channel) for channel in Channel}


@pytest.fixture
def settings_factory() -> Iterator[Callable[..., NotificationSettings]]:
    def make(**overrides: Any) -> NotificationSettings:
        return NotificationSettings(**{**FAST, **overrides})

    yield make


@asynccontextmanager
async def running(component: EventConsumer | Dispatcher) -> AsyncIterator[None]:
    task = asyncio.create_task(component.run())
    try:
        yield
    finally:
        component.stop()
        await task


@pytest.fixture
def service(
    db: Database,
    producer: KafkaProducer,
    infra: Infra,
    gateways: dict[Channel, SimulatedGateway],
    settings_factory: Callable[..., NotificationSettings],
) -> Callable[..., tuple[EventConsumer, Dispatcher]]:
    """The consumer (fresh group) and dispatcher of one Notification instance, built like `main` does."""

    def make(**overrides: object) -> tuple[EventConsumer, Dispatcher]:
        settings = settings_factory(**overrides)
        dispatcher = build_dispatcher(db, gateways, settings)
        consumer = EventConsumer(
            service="notification",
            source="/paysaga/notification",
            group_id=f"notification-test-{uuid.uuid4()}",
            bootstrap_servers=infra.bootstrap,
            db=db,
            producer=producer,
            handlers=build_handlers(settings, dispatcher.wake),
            backoff_initial=0.02,
        )
        return consumer, dispatcher

    return make


@pytest.fixture
async def http(db: Database, gateways: dict[Channel, SimulatedGateway]) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(db, gateways, readiness={"database": db.ping})
    TEST_KEYS.protect(app, "notification")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notification", auth=TEST_KEYS.auth("notification")
    ) as client:
        yield client
