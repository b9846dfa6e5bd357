"""Session fixtures: real PostgreSQL and Kafka for integration and end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from paysaga.devstack.kafka_principals import ensure_principals
from paysaga.devstack.secrets import kafka_passwords
from paysaga.devstack.setup import create_topics, prepare_databases
from tests.support.infra import Infra, TestInfra


@pytest.fixture(scope="session")
async def infra() -> AsyncIterator[Infra]:
    test_infra = TestInfra()
    try:
        admin_url, kafka = await test_infra.start()
        await create_topics(kafka)
        await ensure_principals(kafka, kafka_passwords(test_infra.root))
        dsns = await prepare_databases(admin_url, recreate=True)
        yield Infra(admin_url=admin_url, kafka=kafka, dsns=dsns, root=test_infra.root)
    finally:
        test_infra.stop()
