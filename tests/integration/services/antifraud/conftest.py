"""Anti-Fraud against real PostgreSQL and Kafka: its own database, a real grpc.aio server on a
free port, its HTTP app, and its consumer in a fresh group."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from paysaga.contracts.protos import antifraud_pb2_grpc
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.services.antifraud.app import build_app
from paysaga.services.antifraud.consumers import HANDLERS
from paysaga.services.antifraud.grpc_server import AntiFraudGrpcServer
from tests.integration.services.antifraud.helpers import ANTIFRAUD_VERIFIER, LIMITS, payment_channel, wait_serving
from tests.support.consumers import running_consumer
from tests.support.db import connected
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra


@pytest.fixture(scope="session")
async def antifraud_dsn(infra: Infra) -> str:
    """Created and migrated by the session's `infra` fixture."""
    return infra.dsns["antifraud"]


@pytest.fixture
async def db(antifraud_dsn: str) -> AsyncIterator[Database]:
    async with connected(antifraud_dsn, max_size=20) as database:
        yield database


@pytest.fixture
async def grpc_server(db: Database) -> AsyncIterator[AntiFraudGrpcServer]:
    server = AntiFraudGrpcServer(
        host="127.0.0.1",
        port=0,
        db=db,
        limits=LIMITS,
        verifier=ANTIFRAUD_VERIFIER,
        probe_interval_seconds=0.05,
        grace_seconds=2,
    )
    await server.start()
    await wait_serving(server)
    yield server
    await server.close()


@pytest.fixture
async def channel(grpc_server: AntiFraudGrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with payment_channel(grpc_server.address) as ch:
        yield ch


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> antifraud_pb2_grpc.AntiFraudStub:
    return antifraud_pb2_grpc.AntiFraudStub(channel)


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = TEST_KEYS.protect(build_app(db, LIMITS, readiness={"database": db.ping}), "antifraud")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://antifraud", auth=TEST_KEYS.auth("antifraud")
    ) as client:
        yield client


@pytest.fixture
async def consumer(db: Database, producer: KafkaProducer, infra: Infra) -> AsyncIterator[EventConsumer]:
    """The service's own consumer (its HANDLERS), in a fresh group, running for the test."""
    async with running_consumer("antifraud", HANDLERS, db, producer, infra) as runner:
        yield runner
