"""`GET /ops/inbox`: which events a consuming service applied, and when, for the operators' saga
timeline ("did Wallet apply this PaymentCompleted?").

One route, added by the platform (`ServiceParts.service`) to every service with a consumer: its
inbox holds the `(ce_source, ce_id)` of every event it applied, written in the same transaction as
the effects, so "in the inbox" means "applied". Kept as long as the inbox retention (8 days). An
event type the service does not handle is never in it (see `contracts.bus` for who applies what).
Only the operators' identity may call it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query

from paysaga.contracts.bus import EXPECTED_SOURCES
from paysaga.contracts.identities import OPS
from paysaga.contracts.ops import InboxAnswer, InboxEntry
from paysaga.platform import inbox
from paysaga.platform.db import Database
from paysaga.platform.service_auth import callers

PATH = "/ops/inbox"
MAX_IDS = 100
PUBLISHERS = sorted(set(EXPECTED_SOURCES.values()))  # the sources asked when none is given


def add_inbox_route(app: FastAPI, db: Database, *, service: str, groups: list[str]) -> None:
    @app.get(
        PATH,
        response_model=InboxAnswer,
        tags=["ops"],
        dependencies=[callers(OPS)],
        summary="Whether this service's consumer group applied these events (by ce_id), and when",
    )
    async def applied_events(
        event_ids: Annotated[list[str], Query(alias="eventId", min_length=1, max_length=MAX_IDS)],
        sources: Annotated[
            list[str] | None,
            Query(alias="source", max_length=20, description="ce_source of the events (default: every publisher's)"),
        ] = None,
    ) -> InboxAnswer:
        async with db.connection() as conn:
            rows = await inbox.applied(conn, sources=sources or PUBLISHERS, event_ids=event_ids)
        found = {r["event_id"]: r for r in rows}
        return InboxAnswer(
            service=service,
            groups=groups,
            events=[
                InboxEntry(
                    ce_id=i,
                    ce_source=r["event_source"],
                    applied=True,
                    applied_at=r["processed_at"],
                    ce_type=r["event_type"],
                    topic=r["topic"],
                    partition=r["kafka_partition"],
                    offset=r["kafka_offset"],
                )
                if (r := found.get(i)) is not None
                else InboxEntry(ce_id=i, ce_source=None, applied=False)
                for i in dict.fromkeys(event_ids)
            ],
        )
