"""The subscriptions and deliveries API: validated input (RFC 9457 problems), secrets never shown,
unsubscribing stops the webhooks."""

from __future__ import annotations

import uuid

import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from tests.integration.services.merchant_callback.conftest import Harness
from tests.integration.services.merchant_callback.helpers import (
    Receiver,
    delivery_rows,
    eventually,
    new_account,
    new_secret,
    publish_completed,
    statuses,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"accountNumber": "4070281000000000001", "url": "https://m.example/h", "secret": "x" * 16}, "accountNumber"),
        ({"accountNumber": "40702810ABC000000001", "url": "https://m.example/h", "secret": "x" * 16}, "accountNumber"),
        ({"accountNumber": "40702810000000000001", "url": "/relative", "secret": "x" * 16}, "url"),
        ({"accountNumber": "40702810000000000001", "url": "ftp://m.example/h", "secret": "x" * 16}, "url"),
        ({"accountNumber": "40702810000000000001", "url": "https://m.example/h", "secret": "x" * 15}, "secret"),
        ({"accountNumber": "40702810000000000001", "url": "https://m.example/h"}, "secret"),
        ({"accountNumber": "40702810000000000001", "url": "https://m.example/h", "secret": "x" * 16, "x": 1}, "x"),
    ],
)
async def test_invalid_subscriptions_are_refused_with_problem_details(
    harness: Harness, body: dict[str, object], field: str
) -> None:
    answer = await harness.http.post("/v1/subscriptions", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/validation-error" and problem["status"] == 422
    assert field in problem["detail"]


async def test_subscriptions_never_show_the_secret(harness: Harness) -> None:
    account, secret = new_account(), new_secret()
    body = {"accountNumber": account, "url": "https://merchant.example/hooks", "secret": secret}
    created = await harness.http.post("/v1/subscriptions", json=body)
    assert created.status_code == 201
    view = created.json()
    assert set(view) == {"subscriptionId", "accountNumber", "url", "createdAt"}
    assert created.headers["location"] == f"/v1/subscriptions/{view['subscriptionId']}"

    duplicate = await harness.http.post("/v1/subscriptions", json=body)
    assert duplicate.status_code == 409 and duplicate.json()["type"] == "/problems/subscription-exists"

    listing = await harness.http.get("/v1/subscriptions", params={"accountNumber": account})
    one = await harness.http.get(created.headers["location"])
    assert listing.json() == [view] and one.json() == view
    assert secret not in listing.text + one.text + created.text

    assert (await harness.http.delete(created.headers["location"])).status_code == 204
    assert (await harness.http.get(created.headers["location"])).status_code == 404
    assert (await harness.http.delete(created.headers["location"])).status_code == 404
    assert (await harness.http.get("/v1/subscriptions", params={"accountNumber": account})).json() == []


async def test_deliveries_api_refusals(harness: Harness) -> None:
    missing = await harness.http.get("/v1/deliveries")
    assert missing.status_code == 422 and missing.json()["type"] == "/problems/validation-error"
    assert (await harness.http.get("/v1/deliveries", params={"paymentId": str(uuid.uuid4())})).json() == []
    unknown = uuid.uuid4()
    assert (await harness.http.get(f"/v1/deliveries/{unknown}")).status_code == 404
    not_found = await harness.http.post(f"/v1/deliveries/{unknown}/redeliver")
    assert not_found.status_code == 404 and not_found.headers["content-type"] == "application/problem+json"


async def test_unsubscribing_stops_new_and_pending_webhooks(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, _ = receiver.endpoint(secret, fail_first=1_000_000)  # refuses everything
    subscription_id = await harness.subscribe(account, url, secret)
    await harness.start_dispatcher()
    pending = publish_completed(infra, account)
    assert await eventually(lambda: _attempted(db, pending.payment_id))

    assert (await harness.http.delete(f"/v1/subscriptions/{subscription_id}")).status_code == 204
    assert await eventually(lambda: _is_dead(db, pending.payment_id))
    [dead] = await harness.deliveries(pending.payment_id)
    assert dead["lastError"] == "subscription deleted"
    refused = await harness.http.post(f"/v1/deliveries/{dead['deliveryId']}/redeliver")
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/subscription-deleted"

    later = publish_completed(infra, account)

    async def later_applied() -> bool:  # the outcome is stored in the transaction that would schedule webhooks
        async with db.connection() as conn:
            outcome = await conn.fetchval("SELECT outcome FROM payments WHERE payment_id = $1", later.payment_id)
        return outcome == "COMPLETED"

    assert await eventually(later_applied)
    assert await delivery_rows(db, later.payment_id) == []
    assert all(r.json["paymentId"] == pending.payment_id for r in receiver.received(url))


async def _attempted(db: Database, payment_id: str) -> bool:
    rows = await delivery_rows(db, payment_id)
    return len(rows) == 1 and rows[0]["attempts"] >= 1


async def _is_dead(db: Database, payment_id: str) -> bool:
    return await statuses(db, payment_id) == ["DEAD"]
