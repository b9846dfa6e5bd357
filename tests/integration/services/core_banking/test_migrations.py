"""The Core Banking migration history goes up and down cleanly, on a scratch database."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from paysaga.devstack.postgres import ensure_databases
from paysaga.platform import migrations
from paysaga.platform.settings import service_database_url
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

TABLES = {"accounts", "journal_entries", "journal_lines", "known_payments", "unposted_completions", "inbox"}


async def tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows} - {"alembic_version"}
    finally:
        await conn.close()


async def test_upgrade_downgrade_upgrade(infra: Infra) -> None:
    await ensure_databases(infra.admin_url, ["paysaga_core_banking_migrations"], recreate=True)
    dsn = service_database_url(infra.admin_url, "core_banking_migrations")
    await asyncio.to_thread(migrations.upgrade, "core_banking", dsn)
    assert await tables(dsn) == TABLES
    await asyncio.to_thread(migrations.downgrade, "core_banking", dsn)
    assert await tables(dsn) == set()
    await asyncio.to_thread(migrations.upgrade, "core_banking", dsn)
    assert await tables(dsn) == TABLES
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM accounts") == 4
    finally:
        await conn.close()
