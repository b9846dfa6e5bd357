"""Core Banking against real PostgreSQL and Kafka: its own migrated database, its HTTP app, and
its consumer (the service's HANDLERS) in a fresh group per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.services.core_banking.app import build_app
from paysaga.services.core_banking.consumers import HANDLERS
from tests.support.db import connected
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
    app = build_app(db, readiness={"database": db.ping})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://core-banking") as client:
        yield client


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[KafkaProducer]:
    p = KafkaProducer(infra.bootstrap, client_id="core-banking-test")
    yield p
    await p.close()


@pytest.fixture
async def consumer(db: Database, producer: KafkaProducer, infra: Infra) -> AsyncIterator[EventConsumer]:
    """The service's own consumer in a fresh group, running for the test."""
    runner = EventConsumer(
        service="core_banking",
        group_id=f"core-banking-test-{uuid.uuid4()}",
        bootstrap_servers=infra.bootstrap,
        db=db,
        producer=producer,
        handlers=HANDLERS,
        backoff_initial=0.02,
    )
    task = asyncio.create_task(runner.run())
    yield runner
    runner.stop()
    await task
