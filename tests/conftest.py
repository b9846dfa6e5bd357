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


# The contract test fuzzes every API of the e2e platform with valid requests, which move money as any
# client's may (journal reversals in Core Banking, blocklist entries, webhook subscriptions): it runs
# after the other end-to-end tests, whose ledgers and balances must be their own, and before the
# platform they share stops.
CONTRACT_MODULE = "tests/e2e/test_api_contract.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    contract = [item for item in items if item.nodeid.startswith(CONTRACT_MODULE)]
    if not contract:
        return
    rest = [item for item in items if not item.nodeid.startswith(CONTRACT_MODULE)]
    e2e = [n for n, item in enumerate(rest) if item.nodeid.startswith("tests/e2e/")]
    cut = e2e[-1] + 1 if e2e else len(rest)
    items[:] = rest[:cut] + contract + rest[cut:]
