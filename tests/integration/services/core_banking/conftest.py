"""Core Banking against real PostgreSQL and Kafka: its own migrated database, its HTTP app, and
its consumer (the service's HANDLERS) in a fresh group per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.core_banking.app import build_app
from paysaga.services.core_banking.consumers import HANDLERS
from tests.support.consumers import running_consumer
from tests.support.db import connected
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra


@pytest.fixture(scope="session")
async def core_banking_dsn(infra: Infra) -> str:
    """Created and migrated by the session's `infra` fixture."""
    return infra.dsns["core_banking"]


@pytest.fixture
async def db(core_banking_dsn: str) -> AsyncIterator[Database]:
    async with connected(core_banking_dsn, max_size=20) as database:
        yield database


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(db, lambda: UnitOfWork(db, source="/test"), readiness={"database": db.ping})
    TEST_KEYS.protect(app, "core_banking")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://core-banking", auth=TEST_KEYS.auth("core_banking")
    ) as client:
        yield client


@pytest.fixture
async def consumer(db: Database, producer: KafkaProducer, infra: Infra) -> AsyncIterator[EventConsumer]:
    """The service's own consumer in a fresh group, running for the test."""
    async with running_consumer("core_banking", HANDLERS, db, producer, infra) as runner:
        yield runner
