"""A scratch database with the platform's outbox and inbox tables, for testing the plumbing alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from paysaga.devstack.postgres import ensure_databases
from paysaga.platform import inbox, outbox
from paysaga.platform.db import Database
from paysaga.platform.settings import service_database_url
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def platform_dsn(infra: Infra) -> str:
    await ensure_databases(infra.admin_url, ["paysaga_platformtest"], recreate=True)
    dsn = service_database_url(infra.admin_url, "platformtest")
    conn = await asyncpg.connect(dsn)
    try:
        for statement in (*outbox.DDL, *inbox.DDL):
            await conn.execute(statement)
        await conn.execute("CREATE TABLE applied (event_id text, user_id text, applied_at timestamptz DEFAULT now())")
    finally:
        await conn.close()
    return dsn


@pytest.fixture
async def db(platform_dsn: str) -> AsyncIterator[Database]:
    database = Database(platform_dsn, min_size=1, max_size=20)
    await database.connect()
    yield database
    await database.close()
