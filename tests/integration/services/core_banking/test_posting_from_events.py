"""Real events on Kafka → the Core Banking consumer → the ledger: once per payment, whatever the
redeliveries and the order, and always balanced."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import pytest

from paysaga.contracts.events import Event
from paysaga.contracts.topics import PAYMENT_EVENTS, dead_letter_topic
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from tests.integration.services.core_banking.helpers import (
    account_totals,
    completed,
    eventually,
    failed,
    in_inbox,
    initiated,
    journal,
    new_payment_id,
    publish,
    publish_many,
    trial_balance,
)
from tests.support.infra import Infra
from tests.support.kafka import wait_for_records

pytestmark = pytest.mark.integration


async def unposted(http: httpx.AsyncClient) -> set[str]:
    response = await http.get("/v1/unposted-completions", params={"limit": 1000})
    assert response.status_code == 200
    return {item["paymentId"] for item in response.json()["items"]}


async def test_a_completed_payment_is_posted_as_one_balanced_entry(
    consumer: EventConsumer, http: httpx.AsyncClient, infra: Infra, db: Database
) -> None:
    payment_id = new_payment_id()
    publish(infra, initiated(payment_id, 123_456, "RUB"))
    done = completed(payment_id, "txn-one")
    completed_id = publish(infra, done)
    assert await eventually(lambda: in_inbox(db, completed_id))
    (entry,) = await journal(http, payment_id)
    assert entry["kind"] == "PAYOUT"
    assert entry["providerTxnId"] == "txn-one"
    assert entry["sourceEventId"] == completed_id
    assert entry["reversedByEntryId"] is None
    assert sorted((x["accountCode"], x["side"], x["amount"], x["currency"]) for x in entry["lines"]) == [
        ("1100", "CREDIT", 123_456, "RUB"),
        ("2100", "DEBIT", 123_456, "RUB"),
    ]


async def test_redelivery_with_the_same_or_a_new_event_id_posts_once(
    consumer: EventConsumer, http: httpx.AsyncClient, infra: Infra, db: Database
) -> None:
    payment_id = new_payment_id()
    before = await trial_balance(http)
    init_id = publish(infra, initiated(payment_id, 50_000, "USD"))
    publish(infra, initiated(payment_id, 50_000, "USD"), event_id=init_id)  # same ce_id
    publish(infra, initiated(payment_id, 50_000, "USD"))  # the same payment re-published, new ce_id
    done = completed(payment_id)
    first = publish(infra, done)
    publish(infra, done, event_id=first)  # a redelivery: same ce_id
    again = publish(infra, done)  # the same completion with a new ce_id (a replay through an outbox)
    # One key, one partition: when the last record is in the inbox, all before it were handled.
    assert await eventually(lambda: in_inbox(db, again))
    entries = await journal(http, payment_id)
    assert len(entries) == 1
    assert entries[0]["sourceEventId"] == first
    after = await trial_balance(http)
    assert account_totals(after, "USD", "2100")[0] - account_totals(before, "USD", "2100")[0] == 50_000
    assert account_totals(after, "USD", "1100")[1] - account_totals(before, "USD", "1100")[1] == 50_000
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM known_payments WHERE payment_id = $1", payment_id) == 1


async def test_a_completion_before_its_initiation_waits_and_is_posted_when_the_amount_is_known(
    consumer: EventConsumer, http: httpx.AsyncClient, infra: Infra, db: Database
) -> None:
    payment_id = new_payment_id()
    done = completed(payment_id, "txn-early")
    early = publish(infra, done)
    replayed = publish(infra, done)  # the early completion again, new id: still one waiting, one posting
    assert await eventually(lambda: in_inbox(db, replayed))
    assert payment_id in await unposted(http)
    assert await journal(http, payment_id) == []

    init_id = publish(infra, initiated(payment_id, 777, "EUR"))
    assert await eventually(lambda: in_inbox(db, init_id))
    (entry,) = await journal(http, payment_id)
    assert entry["providerTxnId"] == "txn-early"
    assert entry["sourceEventId"] == early
    assert {(x["accountCode"], x["side"], x["amount"], x["currency"]) for x in entry["lines"]} == {
        ("2100", "DEBIT", 777, "EUR"),
        ("1100", "CREDIT", 777, "EUR"),
    }
    assert payment_id not in await unposted(http)

    late = publish(infra, done)  # and once more, after it was posted
    assert await eventually(lambda: in_inbox(db, late))
    assert len(await journal(http, payment_id)) == 1
    assert payment_id not in await unposted(http)


Records = list[tuple[Event, str, str | None]]
CURRENCIES = ("RUB", "USD", "EUR")


def mixed_run(rng: random.Random, payments: int) -> tuple[Records, dict[str, tuple[int, str]], list[str]]:
    """Events of `payments` payments (completed, failed or pending), with redeliveries, in a random
    order, also within a payment (completions before their initiation): the ledger must not depend on it.
    Returns the records to produce, the payments that must be posted (amount, currency), and the others."""
    records: Records = []
    expected_posted: dict[str, tuple[int, str]] = {}
    not_posted: list[str] = []
    for _ in range(payments):
        payment_id = new_payment_id()
        amount, currency = rng.randint(1, 10_000_000), rng.choice(CURRENCIES)
        outcome = rng.choices(["completed", "failed", "pending"], weights=[6, 3, 1])[0]
        init = (initiated(payment_id, amount, currency), str(uuid.uuid4()), None)
        events: Records = [init]
        if outcome == "completed":
            done = (completed(payment_id), str(uuid.uuid4()), None)
            events.append(done)
            if rng.random() < 0.3:
                events.append(done)  # redelivered
            if rng.random() < 0.3:
                events.append((done[0], str(uuid.uuid4()), None))  # re-published with a new id
            expected_posted[payment_id] = (amount, currency)
        elif outcome == "failed":
            events.append((failed(payment_id), str(uuid.uuid4()), None))
            not_posted.append(payment_id)
        else:
            not_posted.append(payment_id)
        if rng.random() < 0.2:
            events.append(init)  # a late redelivery of PaymentInitiated
        records += events
    rng.shuffle(records)
    return records, expected_posted, not_posted


def completed_first(records: Records) -> set[str]:
    """The payments whose first record is a completion."""
    first: dict[str, str] = {}
    for event, _, _ in records:
        first.setdefault(event.key, event.type_name())
    return {p for p, t in first.items() if t == "PaymentCompleted"}


async def test_a_mixed_run_keeps_the_ledger_balanced_and_customer_funds_move_by_the_completed_amounts(
    consumer: EventConsumer, http: httpx.AsyncClient, infra: Infra, db: Database
) -> None:
    before = await trial_balance(http)
    ordered, expected_posted, not_posted = mixed_run(random.Random(20250601), 40)
    assert len(completed_first(ordered)) >= 3  # the run does exercise completions before initiations
    await asyncio.to_thread(publish_many, infra, ordered)

    consumed_ids = {event_id for event, event_id, _ in ordered if event.type_name() != "PaymentFailed"}

    async def all_consumed() -> bool:
        async with db.connection() as conn:
            n = await conn.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", list(consumed_ids))
        return n == len(consumed_ids)

    assert await eventually(all_consumed, timeout=60)

    for payment_id, (amount, currency) in expected_posted.items():
        entries = await journal(http, payment_id)
        assert [e["kind"] for e in entries] == ["PAYOUT"], payment_id
        assert {(x["accountCode"], x["side"], x["amount"], x["currency"]) for x in entries[0]["lines"]} == {
            ("2100", "DEBIT", amount, currency),
            ("1100", "CREDIT", amount, currency),
        }
    for payment_id in not_posted:
        assert await journal(http, payment_id) == [], payment_id
    assert not (set(expected_posted) & await unposted(http))

    after = await trial_balance(http)
    assert after["balanced"] is True
    assert all(c["balanced"] and c["totalDebits"] == c["totalCredits"] for c in after["currencies"])
    for currency in CURRENCIES:
        paid_out = sum(a for a, c in expected_posted.values() if c == currency)
        funds_before, funds_after = account_totals(before, currency, "2100"), account_totals(after, currency, "2100")
        settle_before, settle_after = account_totals(before, currency, "1100"), account_totals(after, currency, "1100")
        assert funds_after[0] - funds_before[0] == paid_out, currency
        assert funds_after[1] - funds_before[1] == 0, currency
        assert settle_after[1] - settle_before[1] == paid_out, currency
        assert settle_after[0] - settle_before[0] == 0, currency


async def test_the_same_payment_with_another_amount_is_dead_lettered_and_the_first_amount_stands(
    consumer: EventConsumer, http: httpx.AsyncClient, infra: Infra, db: Database
) -> None:
    payment_id = new_payment_id()
    publish(infra, initiated(payment_id, 1_000))
    publish(infra, initiated(payment_id, 9_999))  # a breach of the contract
    done = publish(infra, completed(payment_id))
    assert await eventually(lambda: in_inbox(db, done))
    (entry,) = await journal(http, payment_id)
    assert {x["amount"] for x in entry["lines"]} == {1_000}
    dead = await asyncio.to_thread(
        wait_for_records,
        infra.kafka,
        dead_letter_topic(PAYMENT_EVENTS),
        lambda r: r.key == payment_id and r.headers.get("dlq_consumer_group") == consumer.group_id,
    )
    assert len(dead) == 1
    assert dead[0].headers["dlq_reason"] == "handler-failed"
    assert "PaymentConflict" in dead[0].headers["dlq_error"]
