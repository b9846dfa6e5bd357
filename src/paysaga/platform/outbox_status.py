"""`GET /ops/outbox`: the outbox backlog of a service that publishes, for the operators' fleet view.

One route, added by the platform (`ServiceParts.service`) to every service with an outbox, so
the Ops service asks each the same question: how many rows wait for the relay, how old the
oldest is, and when the relay last published (a relay that stopped shows as an ageing backlog
and an old `lastPublishedAt`). Only the operators' identity may call it.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from paysaga.contracts.identities import OPS
from paysaga.platform.db import Database
from paysaga.platform.service_auth import callers

PATH = "/ops/outbox"


class OutboxBacklog(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    pending: int
    oldest_pending_at: datetime | None
    oldest_pending_age_seconds: float
    last_published_at: datetime | None


# Both aggregates are answered from the partial indexes (`outbox_pending`, `outbox_published_at`).
_BACKLOG = """
SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS pending,
       (SELECT min(created_at) FROM outbox WHERE published_at IS NULL) AS oldest,
       (SELECT max(published_at) FROM outbox WHERE published_at IS NOT NULL) AS last_published,
       now() AS now
"""


async def backlog(conn: asyncpg.Connection) -> OutboxBacklog:
    row = await conn.fetchrow(_BACKLOG)
    assert row is not None
    oldest: datetime | None = row["oldest"]
    return OutboxBacklog(
        pending=row["pending"],
        oldest_pending_at=oldest,
        oldest_pending_age_seconds=max(0.0, (row["now"] - oldest).total_seconds()) if oldest else 0.0,
        last_published_at=row["last_published"],
    )


def add_outbox_route(app: FastAPI, db: Database) -> None:
    @app.get(
        PATH,
        response_model=OutboxBacklog,
        tags=["ops"],
        dependencies=[callers(OPS)],
        summary="The outbox backlog: rows waiting for the relay, the oldest one's age, the last publish",
    )
    async def outbox_backlog() -> OutboxBacklog:
        async with db.connection() as conn:
            return await backlog(conn)
