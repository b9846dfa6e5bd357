"""Session fixtures: real PostgreSQL and Kafka for integration and end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from paysaga.devstack.setup import create_topics, prepare_databases
from tests.support.infra import Infra, TestInfra


@pytest.fixture(scope="session")
async def infra() -> AsyncIterator[Infra]:
    test_infra = TestInfra()
    try:
        admin_url, bootstrap = await test_infra.start()
        await create_topics(bootstrap)
        dsns = await prepare_databases(admin_url, recreate=True)
        yield Infra(admin_url=admin_url, bootstrap=bootstrap, dsns=dsns, root=test_infra.root)
    finally:
        test_infra.stop()
