"""PostgreSQL access: one asyncpg pool per service, and the unit of work that owns a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without the default `RESET ALL; UNLISTEN *; …` round trip.

    asyncpg still rolls back a transaction left open. Nothing here leaves session state behind:
    advisory locks are transaction-scoped, LISTEN runs on a connection of its own, no `SET`.
    """


class PoolExhausted(TimeoutError):
    """No connection of the pool came free within the acquire timeout: the service is overloaded
    (an HTTP request gets 503 with `Retry-After`, not 500; a consumer retries the record)."""


class Database:
    """A pool, created at start-up (never at import) and closed at shutdown. Acquiring one of its
    connections waits at most `acquire_timeout` seconds (then `PoolExhausted`), not without bound."""

    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 10, acquire_timeout: float = 5.0) -> None:
        self.dsn = dsn
        self._min, self._max = min_size, max_size
        self.acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool | None = None

    async def connect(self) -> None:
        """Open the pool (its first connections); raises if the server cannot be reached."""
        if self._pool is not None:
            return
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=self._min,
            max_size=self._max,
            init=_init_connection,
            reset=_keep_session,
            command_timeout=30,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("Database.connect() was not called")
        return self._pool

    async def acquire(self) -> asyncpg.Connection:
        """A connection of the pool (give it back with `pool.release`); `PoolExhausted` if none
        comes free within the acquire timeout."""
        pool = self.pool
        try:
            conn: asyncpg.Connection = await pool.acquire(timeout=self.acquire_timeout)
        except TimeoutError as exc:
            raise PoolExhausted(f"no database connection free within {self.acquire_timeout} s") from exc
        return conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await self.acquire()
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection inside a transaction: committed on normal exit, rolled back on error."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def ping(self) -> None:
        async with self.connection() as conn:
            await conn.fetchval("SELECT 1")
