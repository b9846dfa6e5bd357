"""The orphan-callback sweep against real PostgreSQL (fixtures: conftest.py)."""

from __future__ import annotations

import uuid

import pytest

from paysaga.platform.db import Database
from paysaga.services.payment.orphans import OrphanCallbacks
from tests.integration.services.payment.fake_provider import FakeProvider

pytestmark = pytest.mark.integration
SOURCE = "/paysaga/payment"  # the event source the composition root gives Payment


async def failed_without_txn(db: Database) -> uuid.UUID:
    """A payment that timed out before it learnt the provider's id (and whose funds were released)."""
    payment_id = uuid.uuid4()
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO payments (payment_id, user_id, wallet_id, amount, currency, recipient, status, error_code,"
            " created_at, deadline_at, completed_at) VALUES ($1, $2, $3, 100, 'RUB', '{}', 'FAILED', 'TIMEOUT',"
            " now() - interval '1 hour', now() - interval '50 minutes', now() - interval '50 minutes')",
            payment_id,
            uuid.uuid4(),
            uuid.uuid4(),
        )
    return payment_id


async def waiting_callback(db: Database, txn: str, age_minutes: int) -> None:
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO early_callbacks (provider_txn_id, event_id, status, received_at)"
            " VALUES ($1, $2, 'SUCCESS', now() - make_interval(mins => $3))",
            txn,
            str(uuid.uuid4()),
            age_minutes,
        )


async def test_an_unclaimed_success_becomes_a_late_success_case_on_its_payment(
    db: Database, provider: FakeProvider
) -> None:
    client, known = provider.client, provider.payouts
    payment_id = await failed_without_txn(db)
    known["ptx_lost"] = str(payment_id)
    await waiting_callback(db, "ptx_lost", age_minutes=10)
    sweep = OrphanCallbacks(db, client, source=SOURCE, older_than_seconds=60, retry_after_seconds=300)
    assert await sweep.sweep() == 1
    async with db.connection() as conn:
        cases = await conn.fetch("SELECT kind, payment_id, provider_txn_id, payment_status FROM reconciliation_cases")
        payment = await conn.fetchrow("SELECT status, error_code, provider_txn_id FROM payments")
        waiting = await conn.fetchval("SELECT count(*) FROM early_callbacks")
        events = await conn.fetchval("SELECT count(*) FROM outbox")
    assert [tuple(c) for c in cases] == [("LATE_SUCCESS", payment_id, "ptx_lost", "FAILED")]
    assert tuple(payment) == ("FAILED", "TIMEOUT", "ptx_lost")  # a final state never changes
    assert (waiting, events) == (0, 0)  # taken, and no second final event
    assert await sweep.sweep() == 0  # nothing left to do


async def test_a_recent_callback_is_left_to_the_submission(db: Database, provider: FakeProvider) -> None:
    client, known, asked = provider.client, provider.payouts, provider.asked
    known["ptx_new"] = str(await failed_without_txn(db))
    await waiting_callback(db, "ptx_new", age_minutes=0)
    assert await OrphanCallbacks(db, client, source=SOURCE, older_than_seconds=60, retry_after_seconds=300).sweep() == 0
    assert asked == []


async def test_callbacks_that_cannot_be_resolved_wait_behind_the_others(
    db: Database, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, known, asked = provider.client, provider.payouts, provider.asked
    monkeypatch.setattr("paysaga.services.payment.orphans.BATCH", 2)  # two lookups per round
    await waiting_callback(db, "ptx_unknown_1", age_minutes=30)  # the provider does not know these
    await waiting_callback(db, "ptx_unknown_2", age_minutes=20)
    payment_id = await failed_without_txn(db)
    known["ptx_resolvable"] = str(payment_id)
    await waiting_callback(db, "ptx_resolvable", age_minutes=10)
    sweep = OrphanCallbacks(db, client, source=SOURCE, older_than_seconds=60, retry_after_seconds=300)

    assert await sweep.sweep() == 0  # the two oldest first: neither can be resolved
    assert asked == ["ptx_unknown_1", "ptx_unknown_2"]
    assert await sweep.sweep() == 1  # they wait their retry; the next one gets its turn
    assert asked[2:] == ["ptx_resolvable"]
    async with db.connection() as conn:
        kinds = await conn.fetch("SELECT kind, payment_id FROM reconciliation_cases")
        kept = await conn.fetchval("SELECT count(*) FROM early_callbacks WHERE provider_txn_id LIKE 'ptx_unknown_%'")
    assert [tuple(k) for k in kinds] == [("LATE_SUCCESS", payment_id)]
    assert kept == 2  # never dropped: still there for a human, and looked up again later


async def test_a_callback_of_a_payment_still_being_submitted_is_looked_at_again_next_round(
    db: Database, provider: FakeProvider
) -> None:
    client, known, asked = provider.client, provider.payouts, provider.asked
    payment_id = uuid.uuid4()
    async with db.connection() as conn:  # CHECKED: its submissions are still going unanswered
        await conn.execute(
            "INSERT INTO payments (payment_id, user_id, wallet_id, amount, currency, recipient, status,"
            " created_at, deadline_at)"
            " VALUES ($1, $2, $3, 100, 'RUB', '{}', 'CHECKED', now(), now() + interval '1 min')",
            payment_id,
            uuid.uuid4(),
            uuid.uuid4(),
        )
    known["ptx_early"] = str(payment_id)
    await waiting_callback(db, "ptx_early", age_minutes=10)
    sweep = OrphanCallbacks(db, client, source=SOURCE, older_than_seconds=60, retry_after_seconds=3600)
    assert await sweep.sweep() == 0  # left to the submission ...
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT next_lookup_at FROM early_callbacks") is None  # ... not put off
        await conn.execute(  # the deadline passed with no answer: it timed out
            "UPDATE payments SET status = 'FAILED', error_code = 'TIMEOUT', completed_at = now()"
        )
    assert await sweep.sweep() == 1  # the very next round matches it
    assert asked == ["ptx_early", "ptx_early"]


async def test_an_unreadable_provider_answer_puts_off_that_callback_only(
    db: Database, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, known, asked = provider.client, provider.payouts, provider.asked
    monkeypatch.setattr("paysaga.services.payment.orphans.BATCH", 1)  # one lookup per round
    await waiting_callback(db, "ptx_garbage", age_minutes=30)  # the oldest: a 200 that is not JSON
    payment_id = await failed_without_txn(db)
    known["ptx_fine"] = str(payment_id)
    await waiting_callback(db, "ptx_fine", age_minutes=10)
    sweep = OrphanCallbacks(db, client, source=SOURCE, older_than_seconds=60, retry_after_seconds=300)
    assert await sweep.sweep() == 0
    assert await sweep.sweep() == 1  # not stuck behind the unreadable one
    assert asked == ["ptx_garbage", "ptx_fine"]
