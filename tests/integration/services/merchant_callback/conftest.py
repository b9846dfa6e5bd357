"""Merchant Callback against real PostgreSQL and Kafka: its own database, its HTTP app, its
consumer in a fresh group, dispatchers started by the tests, and a real webhook receiver."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.merchant_callback.app import build_app
from paysaga.services.merchant_callback.consumers import build_handlers
from paysaga.services.merchant_callback.domain import RetryPolicy
from paysaga.services.merchant_callback.targets import WebhookTargets
from tests.integration.services.merchant_callback.helpers import (
    FAST,
    TEST_BOX,
    Receiver,
    RunningDispatcher,
    start_dispatcher,
)
from tests.support.db import connected
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra


@pytest.fixture(scope="session")
async def mc_dsn(infra: Infra) -> str:
    """Created and migrated by the session's `infra` fixture."""
    return infra.dsns["merchant_callback"]


@pytest.fixture
async def db(mc_dsn: str) -> AsyncIterator[Database]:
    async with connected(mc_dsn, max_size=10) as database:
        yield database


@pytest.fixture
def policy() -> RetryPolicy:
    """The retry policy of the service under test (tests override it with parametrize)."""
    return FAST


@dataclass
class Harness:
    db: Database
    policy: RetryPolicy
    http: httpx.AsyncClient
    dispatchers: list[RunningDispatcher] = field(default_factory=list)

    def wake(self) -> None:
        for running in self.dispatchers:
            running.dispatcher.wake()

    async def start_dispatcher(self, db: Database | None = None, **options: Any) -> RunningDispatcher:
        running = await start_dispatcher(db or self.db, self.policy, **options)
        self.dispatchers.append(running)
        return running

    async def subscribe(self, account: str, url: str, secret: str) -> str:
        answer = await self.http.post(
            "/v1/subscriptions", json={"accountNumber": account, "url": url, "secret": secret}
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["subscriptionId"]

    async def deliveries(self, payment_id: str) -> list[dict]:
        answer = await self.http.get("/v1/deliveries", params={"paymentId": payment_id})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
async def harness(db: Database, policy: RetryPolicy) -> AsyncIterator[Harness]:
    dispatchers: list[RunningDispatcher] = []

    def wake() -> None:
        for running in dispatchers:
            running.dispatcher.wake()

    # The receivers listen on 127.0.0.1; test_targets.py covers the public-only default.
    targets = WebhookTargets(allow_private=True)
    app = build_app(
        db,
        lambda: UnitOfWork(db, source="/test"),
        policy=policy,
        targets=targets,
        wake_dispatcher=wake,
        readiness={"database": db.ping},
        box=TEST_BOX,
    )
    TEST_KEYS.protect(app, "merchant_callback")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://merchant-callback",
        auth=TEST_KEYS.auth("merchant_callback"),
    ) as http:
        h = Harness(db=db, policy=policy, http=http, dispatchers=dispatchers)
        yield h
        for running in dispatchers:
            if not running.task.done():
                await running.stop()


@pytest.fixture
async def consumer(
    harness: Harness, db: Database, producer: KafkaProducer, infra: Infra
) -> AsyncIterator[EventConsumer]:
    """The service's own consumer (its handlers), in a fresh group, running for the test."""
    runner = EventConsumer(
        service="merchant_callback",
        source="/paysaga/merchant-callback",
        group_id=f"merchant-callback-test-{uuid.uuid4()}",
        bootstrap_servers=infra.bootstrap,
        db=db,
        producer=producer,
        handlers=build_handlers(harness.policy, harness.wake),
        backoff_initial=0.02,
    )
    task = asyncio.create_task(runner.run())
    yield runner
    runner.stop()
    await task


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver().serving() as r:
        yield r
