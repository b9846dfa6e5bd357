"""The Ops service's pieces against the session's PostgreSQL (its database, `paysaga_ops`) and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.services.ops import repository
from paysaga.services.ops.dead_letters import DeadLetters, ScanLimits
from paysaga.services.ops.kafka_clients import OpsKafka
from tests.support.db import connected
from tests.support.infra import Infra


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    async with connected(infra.dsns["ops"], max_size=5) as database:
        yield database


@pytest.fixture
async def operator_id(db: Database) -> uuid.UUID:
    operator = uuid.uuid4()
    async with db.connection() as conn:
        await repository.insert_operator(
            conn,
            operator,
            email=f"{operator}@example.org",
            email_normalized=f"{operator}@example.org",
            password_hash="not used here",
        )
    return operator


@pytest.fixture
def kafka(infra: Infra) -> OpsKafka:
    return OpsKafka(infra.kafka, client_id="ops-test")


@pytest.fixture
def dead_letters(db: Database, kafka: OpsKafka, producer: KafkaProducer) -> DeadLetters:
    return DeadLetters(db, kafka, producer, ScanLimits(records=100_000, seconds=20, replay_records=500))
