"""A request whose transaction PostgreSQL rolls back for a conflict with a concurrent one (a
deadlock, a serialization failure) is answered 503 with `Retry-After`: its changes are undone and
the same request again is expected to succeed. Not a 500 with a traceback."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from paysaga.platform.db import Database
from paysaga.platform.http import create_app
from paysaga.platform.problems import PROBLEM_MEDIA_TYPE
from paysaga.platform.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration


async def test_the_loser_of_a_deadlock_is_answered_503_and_its_changes_are_undone(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)")
        await conn.execute("INSERT INTO counters VALUES (1, 0), (2, 0)")
    app = create_app(title="t", description="t")

    @app.post("/bump/{first}/{second}")
    async def bump(first: int, second: int) -> dict[str, str]:
        async with UnitOfWork(db, source="/test") as uow:
            await uow.conn.execute("UPDATE counters SET n = n + 1 WHERE id = $1", first)
            await asyncio.sleep(0.3)  # the other request locks its first row meanwhile
            await uow.conn.execute("UPDATE counters SET n = n + 1 WHERE id = $1", second)
            await uow.commit()
        return {"status": "ok"}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = await asyncio.gather(client.post("/bump/1/2"), client.post("/bump/2/1"))
    assert sorted(r.status_code for r in answers) == [200, 503]
    refused = next(r for r in answers if r.status_code == 503)
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert refused.json()["type"] == "/problems/overloaded"
    assert 1 <= int(refused.headers["retry-after"]) <= 3
    async with db.connection() as conn:
        counts = dict(await conn.fetch("SELECT id, n FROM counters"))
    assert counts == {1: 1, 2: 1}  # the winner's two updates; the loser's first one rolled back
