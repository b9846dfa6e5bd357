"""payment-events → webhooks: one per (payment, subscription), whatever is redelivered, republished
or arrives out of order; a payment's first outcome is the only one merchants ever hear of."""

from __future__ import annotations

import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from tests.integration.services.merchant_callback.conftest import Harness
from tests.integration.services.merchant_callback.helpers import (
    Receiver,
    completed,
    delivery_rows,
    eventually,
    failed,
    initiated,
    new_account,
    new_secret,
    publish,
    statuses,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def _inbox_count(db: Database, event_ids: list[str]) -> int:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", event_ids)


async def test_redelivered_and_republished_events_apply_nothing_twice(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account = new_account()
    secrets = [new_secret(), new_secret()]
    urls = [receiver.endpoint(secret)[0] for secret in secrets]
    subscription_ids = {
        await harness.subscribe(account, url, secret) for url, secret in zip(urls, secrets, strict=True)
    }
    await harness.start_dispatcher()

    payment = initiated(account)
    done = completed(payment.payment_id)
    initiated_id = publish(infra, payment)
    publish(infra, payment, event_id=initiated_id)  # a redelivery: the same event again
    completed_id = publish(infra, done)
    publish(infra, done, event_id=completed_id)  # the final event redelivered
    republished_id = publish(infra, done)  # the same outcome under a new event id (a relay crash)
    conflicting_id = publish(infra, failed(payment.payment_id))  # a second outcome: must never reach anyone

    # Out of order: the final event before the PaymentInitiated that says whom and how much.
    late = initiated(account, amount=777)
    late_final_id = publish(infra, failed(late.payment_id, "TIMEOUT"))
    late_initiated_id = publish(infra, late)

    all_ids = [initiated_id, completed_id, republished_id, conflicting_id, late_final_id, late_initiated_id]

    async def settled() -> bool:
        return (
            await _inbox_count(db, all_ids) == len(all_ids)
            and await statuses(db, payment.payment_id) == ["DELIVERED", "DELIVERED"]
            and await statuses(db, late.payment_id) == ["DELIVERED", "DELIVERED"]
        )

    assert await eventually(settled), await harness.deliveries(payment.payment_id)
    assert await _inbox_count(db, all_ids) == len(all_ids)  # each event id once, the redeliveries skipped

    rows = await delivery_rows(db, payment.payment_id)
    assert {str(r["subscription_id"]) for r in rows} == subscription_ids  # one per subscription
    for url in urls:
        got = [r for r in receiver.received(url) if r.json["paymentId"] == payment.payment_id]
        assert len(got) == 1, got  # one POST: nothing was applied twice
        assert got[0].json["status"] == "COMPLETED" and got[0].json["providerTxnId"] == done.provider_txn_id
        assert got[0].verified

        late_got = [r for r in receiver.received(url) if r.json["paymentId"] == late.payment_id]
        assert [(r.json["status"], r.json["errorCode"], r.json["amount"]) for r in late_got] == [
            ("FAILED", "TIMEOUT", 777)
        ]

    views = await harness.deliveries(payment.payment_id)
    assert len(views) == 2
    for view in views:
        assert view["status"] == "DELIVERED" and view["attemptCount"] == 1
        assert [(a["statusCode"], a["succeeded"], a["error"]) for a in view["attempts"]] == [(200, True, None)]
        assert view["payload"]["status"] == "COMPLETED"


async def test_only_accounts_with_a_subscription_get_webhooks_and_subscriptions_apply_from_now(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, other_account = new_account(), new_account()
    secret = new_secret()
    url, _ = receiver.endpoint(secret)
    await harness.start_dispatcher()

    before = initiated(account)  # completed before anyone subscribed: no webhook
    publish(infra, before)
    before_final_id = publish(infra, completed(before.payment_id))

    async def applied(event_id: str) -> bool:
        return await _inbox_count(db, [event_id]) == 1

    assert await eventually(lambda: applied(before_final_id))
    await harness.subscribe(account, url, secret)

    stranger = initiated(other_account)  # an account nobody subscribed to
    publish(infra, stranger)
    stranger_final_id = publish(infra, completed(stranger.payment_id))
    pending = initiated(account)  # initiated before, final after the subscription: a webhook
    publish(infra, pending)
    publish(infra, completed(pending.payment_id))

    assert await eventually(lambda: applied(stranger_final_id))
    assert await eventually(lambda: _delivered_once(db, pending.payment_id))
    assert await delivery_rows(db, before.payment_id) == []
    assert await delivery_rows(db, stranger.payment_id) == []
    assert [r.json["paymentId"] for r in receiver.received(url)] == [pending.payment_id]


async def _delivered_once(db: Database, payment_id: str) -> bool:
    return await statuses(db, payment_id) == ["DELIVERED"]
