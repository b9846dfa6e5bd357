"""Running a service's own consumer inside a test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from paysaga.contracts.events import Event
from paysaga.platform.consumer import EventConsumer, Handler
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from tests.support.infra import Infra


@asynccontextmanager
async def running_consumer(
    service: str, handlers: Mapping[type[Event], Handler], db: Database, producer: KafkaProducer, infra: Infra
) -> AsyncIterator[EventConsumer]:
    """A service's own consumer, in a fresh group (it reads the topics from the start), running meanwhile."""
    runner = EventConsumer(
        service=service,
        source=f"/paysaga/{service}-test",
        group_id=f"{service}-test-{uuid.uuid4()}",
        kafka=infra.kafka,
        db=db,
        producer=producer,
        handlers=handlers,
        backoff_initial=0.02,
    )
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        runner.stop()
        await task
