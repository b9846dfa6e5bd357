"""`GET /ops/inbox` (platform/inbox_status.py): which of the given events the service applied, and
when, from its inbox; every consuming service serves it (ServiceParts adds it), the operators only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from paysaga.contracts.identities import BFF
from paysaga.platform import inbox
from paysaga.platform.db import Database
from paysaga.platform.http import create_app
from paysaga.platform.inbox_status import add_inbox_route
from tests.support.identity import TEST_KEYS

pytestmark = pytest.mark.integration


@pytest.fixture
async def ops(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(title="a consumer", description="consumes events", readiness={})
    add_inbox_route(app, db, service="wallet", groups=["wallet"])
    TEST_KEYS.protect(app, "wallet")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://wallet", auth=TEST_KEYS.auth("wallet")
    ) as client:
        yield client


async def test_applied_events_with_when_and_where_the_others_not(db: Database, ops: httpx.AsyncClient) -> None:
    applied, other_source, unknown = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    async with db.connection() as conn:
        await inbox.claim(
            conn,
            event_source="/paysaga/payment",
            event_id=applied,
            event_type="PaymentCompleted",
            topic="payment-events",
            partition=3,
            offset=41,
        )
        await inbox.claim(
            conn,
            event_source="/somewhere-else",
            event_id=other_source,
            event_type="PaymentCompleted",
            topic="payment-events",
            partition=3,
            offset=42,
        )

    response = await ops.get(
        "/ops/inbox", params=[("eventId", applied), ("eventId", other_source), ("eventId", unknown)]
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["service"], body["groups"]) == ("wallet", ["wallet"])
    first, second, third = body["events"]
    assert (first["ceId"], first["applied"], first["ceSource"], first["ceType"]) == (
        applied,
        True,
        "/paysaga/payment",
        "PaymentCompleted",
    )
    assert (first["topic"], first["partition"], first["offset"]) == ("payment-events", 3, 41)
    assert first["appliedAt"] is not None
    # Only the publishers' sources are looked at, unless the caller names others.
    assert (second["ceId"], second["applied"], second["appliedAt"]) == (other_source, False, None)
    assert (third["ceId"], third["applied"]) == (unknown, False)
    named = await ops.get("/ops/inbox", params={"eventId": other_source, "source": "/somewhere-else"})
    assert named.json()["events"][0]["applied"] is True


async def test_only_the_operators_may_ask_and_at_most_a_hundred_ids(ops: httpx.AsyncClient) -> None:
    assert (await ops.get("/ops/inbox", params={"eventId": "x"}, auth=TEST_KEYS.auth("wallet", BFF))).status_code == 403
    assert (await ops.get("/ops/inbox", params={"eventId": "x"}, auth=None)).status_code == 401
    too_many = {"eventId": [str(i) for i in range(101)]}
    assert (await ops.get("/ops/inbox", params=too_many)).status_code == 422
    assert (await ops.get("/ops/inbox")).status_code == 422
