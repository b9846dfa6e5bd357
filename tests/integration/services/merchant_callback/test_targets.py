"""Public webhook targets only (the production default): a private URL is refused at subscription,
and a subscribed URL that now points at a private address is not called."""

from __future__ import annotations

import httpx
import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.merchant_callback.app import build_app
from paysaga.services.merchant_callback.targets import WebhookTargets
from tests.integration.services.merchant_callback.conftest import Harness
from tests.integration.services.merchant_callback.helpers import (
    FAST,
    TEST_BOX,
    Receiver,
    eventually,
    new_account,
    new_secret,
    publish_completed,
)
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8003/v1/reconciliation-cases", "http://169.254.169.254/latest/meta-data/"]
)
async def test_a_private_webhook_url_is_refused_and_nothing_is_stored(db: Database, url: str) -> None:
    app = build_app(
        db,
        lambda: UnitOfWork(db, source="/test"),
        policy=FAST,
        targets=WebhookTargets(allow_private=False),
        wake_dispatcher=lambda: None,
        readiness={},
        box=TEST_BOX,
    )
    account = new_account()
    TEST_KEYS.protect(app, "merchant_callback")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://mc", auth=TEST_KEYS.auth("merchant_callback")
    ) as http:
        answer = await http.post(
            "/v1/subscriptions", json={"accountNumber": account, "url": url, "secret": new_secret()}
        )
        assert answer.status_code == 422, answer.text
        problem = answer.json()
        assert problem["type"].endswith("/webhook-url-not-allowed") and "non-public address" in problem["detail"]
        assert answer.headers["content-type"].startswith("application/problem+json")
        listed = await http.get("/v1/subscriptions", params={"accountNumber": account})
    assert listed.json() == []


async def test_a_webhook_to_a_private_address_is_not_sent(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, _ = receiver.endpoint(secret)
    await harness.subscribe(account, url, secret)  # allowed when subscribed (the harness allows private)
    await harness.start_dispatcher(allow_private=False)  # ... but not by this dispatcher

    payment = publish_completed(infra, account)

    async def refused_attempt() -> bool:
        deliveries = await harness.deliveries(payment.payment_id)
        return bool(deliveries) and deliveries[0]["attemptCount"] >= 1

    assert await eventually(refused_attempt)
    [delivery] = await harness.deliveries(payment.payment_id)
    assert delivery["status"] == "PENDING"  # retried later, like any failure, until its horizon
    assert delivery["attempts"][0]["error"].startswith("not sent: ") and delivery["attempts"][0]["statusCode"] is None
    assert receiver.received(url) == []
