"""Acquiring a database connection waits a bounded time: a request that cannot get one is
answered 503 with `Retry-After` (the service is overloaded), not 500 and not queued for ever."""

from __future__ import annotations

import httpx
import pytest

from paysaga.platform.db import Database, PoolExhausted
from paysaga.platform.http import create_app
from paysaga.platform.problems import PROBLEM_MEDIA_TYPE
from paysaga.platform.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration


async def test_a_request_that_gets_no_connection_in_time_is_answered_503(platform_dsn: str) -> None:
    db = Database(platform_dsn, min_size=1, max_size=1, acquire_timeout=0.2)
    await db.connect()
    app = create_app(title="t", description="t")

    @app.get("/one")
    async def one() -> dict[str, int]:
        async with db.connection() as conn:
            return {"one": await conn.fetchval("SELECT 1")}

    @app.post("/write")
    async def write() -> dict[str, str]:
        async with UnitOfWork(db, source="/test") as uow:
            await uow.conn.execute("SELECT 1")
            await uow.commit()
        return {"status": "ok"}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            async with db.connection():  # the pool's only connection, held by the test
                busy = await client.get("/one")
                busy_write = await client.post("/write")
                with pytest.raises(PoolExhausted):
                    async with db.transaction():
                        pass
            free = await client.get("/one")
    finally:
        await db.close()
    for response in (busy, busy_write):
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["type"] == "/problems/overloaded"
        assert 1 <= int(response.headers["retry-after"]) <= 3
    assert free.status_code == 200 and free.json() == {"one": 1}
