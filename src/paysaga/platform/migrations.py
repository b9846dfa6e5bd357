"""Alembic, one migration history per service (`paysaga/services/<name>/migrations`).

Each service's `env.py` is two lines that call `run_env()`; `upgrade()` is what the devstack,
the tests and `paysaga migrate` call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import async_engine_from_config


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def alembic_config(service: str, dsn: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"paysaga.services.{service}:migrations")
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(dsn).replace("%", "%%"))
    return cfg


def upgrade(service: str, dsn: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, dsn), revision)


def downgrade(service: str, dsn: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, dsn), revision)


def execute_all(statements: Iterable[str]) -> None:
    """Run DDL statements one by one (asyncpg prepares each statement, so one at a time)."""
    for statement in statements:
        op.execute(statement)


def _do_run(connection: Connection) -> None:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = async_engine_from_config(
        context.config.get_section(context.config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with engine.connect() as conn:
        await conn.run_sync(_do_run)
    await engine.dispose()


def run_env() -> None:
    """Body of every service's migrations/env.py (online mode only)."""
    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported; run against a database")
    asyncio.run(_run_async())
