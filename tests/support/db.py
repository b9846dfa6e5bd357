"""A connected pool on one of the session's service databases (created and migrated by `infra`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from paysaga.platform.db import Database


@asynccontextmanager
async def connected(dsn: str, *, max_size: int = 20) -> AsyncIterator[Database]:
    database = Database(dsn, min_size=1, max_size=max_size)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()
