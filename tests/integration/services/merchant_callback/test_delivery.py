"""Webhook delivery against a real HTTP receiver: signed retries until the merchant answers, dead
letters at the horizon, redelivery, and a durable schedule that survives the dispatcher."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from paysaga.contracts.signatures import SIGNATURE_HEADER, verify_signature
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.services.merchant_callback import repository
from paysaga.services.merchant_callback.domain import DeliveryStatus, RetryPolicy
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
    publish_completed,
    statuses,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

NEVER_ANSWERED = RetryPolicy(initial_seconds=0.2, max_seconds=0.5, horizon_seconds=2)
SLOW_RETRIES = RetryPolicy(initial_seconds=1.5, max_seconds=1.5, horizon_seconds=60)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_failing_endpoint_still_gets_the_webhook_signed_and_verifiable(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, _ = receiver.endpoint(secret, fail_first=3, fail_status=503)
    await harness.subscribe(account, url, secret)
    await harness.start_dispatcher()

    payment = initiated(account, amount=4_250_00)
    done = completed(payment.payment_id)
    publish(infra, payment)
    publish(infra, done)

    assert await eventually(lambda: _is(db, payment.payment_id, "DELIVERED"))
    got = receiver.received(url)
    assert [r.answered for r in got] == [503, 503, 503, 200]
    assert len({r.delivery_id for r in got}) == 1  # a retry, never a second webhook
    assert len({r.body for r in got}) == 1  # the same bytes every time
    for request in got:
        header = request.headers[SIGNATURE_HEADER.lower()]
        assert request.verified and verify_signature(secret, request.body, header)
        assert not verify_signature(new_secret(), request.body, header)  # another merchant's secret
        assert request.headers["content-type"] == "application/json"
        assert request.headers["paysaga-event-type"] == "payment.completed"
    assert got[-1].json == {
        "eventType": "payment.completed",
        "paymentId": payment.payment_id,
        "status": "COMPLETED",
        "amount": 4_250_00,
        "currency": "RUB",
        "providerTxnId": done.provider_txn_id,
        "errorCode": None,
        "occurredAt": _iso(done.completed_at),
    }

    [view] = await harness.deliveries(payment.payment_id)
    assert view["deliveryId"] == got[0].delivery_id
    assert (view["status"], view["attemptCount"], view["nextAttemptAt"]) == ("DELIVERED", 4, None)
    assert view["payload"] == got[-1].json and view["url"] == url
    attempts = view["attempts"]
    assert [(a["statusCode"], a["succeeded"]) for a in attempts] == [(503, False)] * 3 + [(200, True)]
    assert all(a["error"] == "HTTP 503: not now" for a in attempts[:3]) and attempts[3]["error"] is None
    assert all(a["durationMs"] >= 0 for a in attempts)
    times = [_parse(a["attemptedAt"]) for a in attempts]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(gap >= harness.policy.initial_seconds / 2 for gap in gaps), gaps  # backoff, not a tight loop


@pytest.mark.parametrize("policy", [NEVER_ANSWERED])
async def test_an_endpoint_that_never_answers_is_dead_lettered_and_can_be_redelivered(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, plan = receiver.endpoint(secret, fail_first=1_000_000, hang=True)
    await harness.subscribe(account, url, secret)
    await harness.start_dispatcher(timeout=0.3, lease=3)

    payment = initiated(account)
    publish(infra, payment)
    publish(infra, failed(payment.payment_id, "FRAUD_SUSPECTED"))

    assert await eventually(lambda: _is(db, payment.payment_id, "DEAD"), timeout=20)
    [dead] = await harness.deliveries(payment.payment_id)
    assert dead["deadAt"] is not None and dead["nextAttemptAt"] is None
    assert dead["attemptCount"] >= 2 and len(dead["attempts"]) == dead["attemptCount"]
    assert all(a["statusCode"] is None and a["error"].startswith("timeout") for a in dead["attempts"])
    # The horizon is the policy's (taken in the transaction that created the delivery), and the
    # delivery was given up only once it had passed: an attempt that fails before it gets another.
    created, give_up = _parse(dead["createdAt"]), _parse(dead["giveUpAt"])
    assert timedelta(seconds=2) <= give_up - created < timedelta(seconds=10)
    assert _parse(dead["deadAt"]) >= give_up
    requests = receiver.received(url)
    assert len(requests) == dead["attemptCount"] and {r.delivery_id for r in requests} == {dead["deliveryId"]}
    assert all(r.verified for r in requests)

    plan.hang, plan.fail_first = False, 0  # the merchant is back
    answer = await harness.http.post(f"/v1/deliveries/{dead['deliveryId']}/redeliver")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] in ("PENDING", "DELIVERED")
    assert _parse(answer.json()["giveUpAt"]) > give_up  # a new horizon

    assert await eventually(lambda: _is(db, payment.payment_id, "DELIVERED"))
    [redelivered] = await harness.deliveries(payment.payment_id)
    assert redelivered["deliveryId"] == dead["deliveryId"]
    assert redelivered["attemptCount"] == dead["attemptCount"] + 1
    assert redelivered["attempts"][-1]["statusCode"] == 200 and redelivered["attempts"][-1]["succeeded"]
    last = receiver.received(url)[-1]
    assert (last.delivery_id, last.body, last.answered, last.verified) == (
        dead["deliveryId"],
        requests[0].body,
        200,
        True,
    )
    assert last.json["status"] == "FAILED" and last.json["errorCode"] == "FRAUD_SUSPECTED"

    again = await harness.http.post(f"/v1/deliveries/{dead['deliveryId']}/redeliver")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"] == "/problems/delivery-not-dead"


@pytest.mark.parametrize("policy", [SLOW_RETRIES])
async def test_deliveries_survive_a_restart(
    infra: Infra, db: Database, mc_dsn: str, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, _ = receiver.endpoint(secret, fail_first=2)
    await harness.subscribe(account, url, secret)
    first = await harness.start_dispatcher()

    payment = publish_completed(infra, account)

    async def first_attempt_recorded() -> bool:
        rows = await delivery_rows(db, payment.payment_id)
        return len(rows) == 1 and rows[0]["attempts"] == 1

    assert await eventually(first_attempt_recorded)
    await first.stop()  # the service stops mid-schedule
    stopped_at = datetime.now(UTC)
    [row] = await delivery_rows(db, payment.payment_id)
    assert row["status"] == "PENDING" and row["next_attempt_at"] > stopped_at  # the schedule is in the database

    restarted_db = Database(mc_dsn, min_size=1, max_size=4)  # a new process: its own pool, its own dispatcher
    await restarted_db.connect()
    try:
        second = await harness.start_dispatcher(restarted_db)
        assert await eventually(lambda: _is(db, payment.payment_id, "DELIVERED"))
        await second.stop()
    finally:
        await restarted_db.close()

    got = receiver.received(url)
    assert [r.answered for r in got] == [500, 500, 200]
    assert {r.delivery_id for r in got} == {str(row["delivery_id"])} and all(r.verified for r in got)
    [view] = await harness.deliveries(payment.payment_id)
    assert view["attemptCount"] == 3
    assert all(_parse(a["attemptedAt"]) >= stopped_at for a in view["attempts"][1:])  # by the new dispatcher


async def test_a_delivery_leased_by_a_dispatcher_that_died_is_sent_after_its_lease(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, _ = receiver.endpoint(secret)
    await harness.subscribe(account, url, secret)
    payment = publish_completed(infra, account)
    assert await eventually(lambda: _is(db, payment.payment_id, "PENDING"))

    async with db.connection() as conn:  # a dispatcher claims it, then dies before sending
        claimed = await repository.claim_due(conn, limit=1000, lease_seconds=3600)
        [dead] = [c for c in claimed if c.payment_id == payment.payment_id]
        # (what else was due, of earlier tests, is not part of this story: leave it unleased)
        await conn.execute(
            "UPDATE deliveries SET lease_until = NULL, lease_token = NULL WHERE delivery_id = ANY($1::uuid[])",
            [c.delivery_id for c in claimed if c is not dead],
        )
    await harness.start_dispatcher()

    # The live dispatcher is at work: it delivers a webhook that became due after the lease was taken ...
    other_account, other_secret = new_account(), new_secret()
    other_url, _ = receiver.endpoint(other_secret)
    await harness.subscribe(other_account, other_url, other_secret)
    other = publish_completed(infra, other_account)
    assert await eventually(lambda: _is(db, other.payment_id, "DELIVERED"))
    # ... and passes over the leased one: not sent, no attempt, the dead dispatcher's lease untouched.
    assert receiver.received(url) == []
    assert await _lease_of(db, dead.delivery_id) == ("PENDING", 0, dead.lease_token)

    # The lease runs out (its end moved to the past, as if its hour had gone by): it is sent, once.
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE deliveries SET lease_until = now() - interval '1 second' WHERE delivery_id = $1", dead.delivery_id
        )
    harness.wake()
    assert await eventually(lambda: _is(db, payment.payment_id, "DELIVERED"))
    [sent] = receiver.received(url)
    assert sent.verified and sent.delivery_id == str(dead.delivery_id)
    assert await _lease_of(db, dead.delivery_id) == ("DELIVERED", 1, None)
    # Had the dead dispatcher come back, its stale lease could not settle the delivery again.
    async with db.connection() as conn:
        assert not await repository.settle_attempt(
            conn,
            dead.delivery_id,
            dead.lease_token,
            status=DeliveryStatus.PENDING,
            attempted_at=datetime.now(UTC),
            status_code=500,
            error="late",
            next_attempt_at=datetime.now(UTC),
        )
    assert await _lease_of(db, dead.delivery_id) == ("DELIVERED", 1, None)


async def _lease_of(db: Database, delivery_id: UUID) -> tuple[str, int, UUID | None]:
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT status, attempts, lease_token FROM deliveries WHERE delivery_id = $1", delivery_id
        )
    assert row is not None
    return row["status"], row["attempts"], row["lease_token"]


async def _is(db: Database, payment_id: str, status: str) -> bool:
    return await statuses(db, payment_id) == [status]
