"""Velocity is fed by the payment-events Anti-Fraud consumes from Kafka, each payment counted once."""

from __future__ import annotations

import pytest

from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from tests.integration.services.antifraud.helpers import (
    DEADLINE,
    check_request,
    completed,
    eventually,
    failed,
    initiated,
    new_id,
    publish,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def known_count(db: Database, user_id: str) -> int:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT count(*) FROM known_payments WHERE user_id = $1", user_id)


async def outcome(db: Database, payment_id: str) -> str | None:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT status FROM payment_outcomes WHERE payment_id = $1", payment_id)


async def test_consumed_payments_count_once_despite_redelivery_and_republishing(
    infra: Infra, db: Database, consumer: EventConsumer, stub: antifraud_pb2_grpc.AntiFraudStub
) -> None:
    user = new_id("user")
    first, second, third = (initiated(user, 1_000) for _ in range(3))
    event_id = publish(infra, first)
    publish(infra, first, event_id=event_id)  # a redelivery: the same event again
    publish(infra, second)
    publish(infra, second)  # the same payment published twice under two event ids (a relay crash)
    publish(infra, third)
    marker = initiated(new_id("marker"), 1_000)
    publish(infra, marker)

    async def all_in() -> bool:
        return await known_count(db, user) >= 3 and await known_count(db, marker.user_id) == 1

    assert await eventually(all_in)
    assert await known_count(db, user) == 3
    async with db.connection() as conn:
        learned = await conn.fetchval(
            "SELECT array_agg(DISTINCT learned_from) FROM known_payments WHERE user_id = $1", user
        )
        inbox_rows = await conn.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event_id)
    assert learned == ["event"] and inbox_rows == 1

    fourth = await stub.Check(check_request(user_id=user, amount=1_000), timeout=DEADLINE)
    assert (fourth.decision, fourth.reason) == (antifraud_pb2.DENY, "VELOCITY_COUNT")
    # The checked payment's own event, consumed before its Check, is not counted twice.
    own = await stub.Check(
        check_request(user_id=marker.user_id, amount=1_000, payment_id=marker.payment_id), timeout=DEADLINE
    )
    assert own.decision == antifraud_pb2.ALLOW
    assert own.score == pytest.approx(1 / 3)  # count 1 of 3


async def test_a_failed_payment_leaves_the_sum_but_a_completed_one_stays(
    infra: Infra, db: Database, consumer: EventConsumer, stub: antifraud_pb2_grpc.AntiFraudStub
) -> None:
    failed_user, completed_user = new_id("user"), new_id("user")
    big_failed, big_completed = initiated(failed_user, 2_000_000), initiated(completed_user, 2_000_000)
    for event in (big_failed, failed(big_failed.payment_id), big_completed, completed(big_completed.payment_id)):
        publish(infra, event)

    async def outcomes_in() -> bool:
        return (
            await outcome(db, big_failed.payment_id) == "FAILED"
            and await outcome(db, big_completed.payment_id) == "COMPLETED"
        )

    assert await eventually(outcomes_in)
    after_failed = await stub.Check(check_request(user_id=failed_user, amount=1_000_000), timeout=DEADLINE)
    after_completed = await stub.Check(check_request(user_id=completed_user, amount=1_000_000), timeout=DEADLINE)
    assert after_failed.decision == antifraud_pb2.ALLOW  # 1.0M: the failed 2.0M no longer counts
    assert (after_completed.decision, after_completed.reason) == (antifraud_pb2.DENY, "VELOCITY_SUM")  # 3.0M


async def test_an_outcome_that_arrives_before_its_payment_is_kept(
    infra: Infra, db: Database, consumer: EventConsumer, stub: antifraud_pb2_grpc.AntiFraudStub
) -> None:
    user = new_id("user")
    payment = initiated(user, 2_000_000)
    publish(infra, failed(payment.payment_id))  # out of order
    publish(infra, payment)

    async def both_in() -> bool:
        return await known_count(db, user) == 1 and await outcome(db, payment.payment_id) == "FAILED"

    assert await eventually(both_in)
    answer = await stub.Check(check_request(user_id=user, amount=1_000_000), timeout=DEADLINE)
    assert answer.decision == antifraud_pb2.ALLOW


async def test_a_payment_checked_before_its_event_arrives_counts_once(
    infra: Infra, db: Database, consumer: EventConsumer, stub: antifraud_pb2_grpc.AntiFraudStub
) -> None:
    user = new_id("user")
    payment = initiated(user, 1_000)
    checked = await stub.Check(
        check_request(user_id=user, amount=1_000, payment_id=payment.payment_id), timeout=DEADLINE
    )
    assert checked.decision == antifraud_pb2.ALLOW
    event_id = publish(infra, payment)

    async def consumed() -> bool:
        async with db.connection() as conn:
            return bool(await conn.fetchval("SELECT true FROM inbox WHERE event_id = $1", event_id))

    assert await eventually(consumed)
    assert await known_count(db, user) == 1
    # Two more payments reach the limit of 3 exactly: the first counts once, not twice.
    answers = [await stub.Check(check_request(user_id=user, amount=1_000), timeout=DEADLINE) for _ in range(2)]
    assert [a.decision for a in answers] == [antifraud_pb2.ALLOW, antifraud_pb2.ALLOW]
