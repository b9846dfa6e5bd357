"""Follow-up inquiries after a timeout the provider had not settled, against real PostgreSQL
(fixtures: conftest.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.payment import repository
from paysaga.services.payment.handlers import Steps
from paysaga.services.payment.late_inquiries import LateInquiries
from paysaga.services.payment.outcomes import apply_provider_status
from paysaga.services.payment.settings import PaymentSettings
from tests.integration.services.payment.fake_provider import FakeProvider

pytestmark = pytest.mark.integration
SOURCE = "/paysaga/payment"  # the event source the composition root gives Payment

INTERVAL = 600.0


async def timed_out(db: Database, provider: FakeProvider, *, horizon_minutes: int = 60) -> tuple[uuid.UUID, str]:
    """A payment failed with TIMEOUT while the provider said PROCESSING, due for a follow-up inquiry."""
    payment_id, txn = uuid.uuid4(), f"ptx_{uuid.uuid4().hex}"
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO payments (payment_id, user_id, wallet_id, amount, currency, recipient, status, error_code,"
            " provider_txn_id, created_at, deadline_at, completed_at, late_inquiry_at, late_inquiry_until)"
            " VALUES ($1, $2, $3, 100, 'RUB', '{}', 'FAILED', 'TIMEOUT', $4, now() - interval '1 hour',"
            " now() - interval '50 minutes', now() - interval '50 minutes', now() - interval '1 second',"
            " now() + make_interval(mins => $5))",
            payment_id,
            uuid.uuid4(),
            uuid.uuid4(),
            txn,
            horizon_minutes,
        )
    provider.payouts[txn] = str(payment_id)
    return payment_id, txn


async def state(db: Database, payment_id: uuid.UUID) -> dict[str, object]:
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT status, error_code, late_inquiry_at IS NOT NULL AS asking,"
            " extract(epoch FROM late_inquiry_at - now()) AS next_in,"
            " (SELECT count(*) FROM reconciliation_cases c WHERE c.payment_id = p.payment_id) AS cases,"
            " (SELECT count(*) FROM outbox) AS events"
            " FROM payments p WHERE payment_id = $1",
            payment_id,
        )
    assert row is not None
    return dict(row)


async def test_a_success_found_later_opens_a_late_success_case_and_ends_the_inquiries(
    db: Database, provider: FakeProvider
) -> None:
    payment_id, txn = await timed_out(db, provider)
    provider.statuses[txn] = "SUCCESS"
    inquiries = LateInquiries(db, provider.client, source=SOURCE, interval_seconds=INTERVAL)
    with capture_logs() as logs:
        assert await inquiries.sweep() == 1
    after = await state(db, payment_id)
    assert (after["status"], after["error_code"], after["asking"]) == ("FAILED", "TIMEOUT", False)
    assert (after["cases"], after["events"]) == (1, 0)  # a case for a human; a final state never changes
    async with db.connection() as conn:
        case = await conn.fetchrow("SELECT kind, provider_txn_id, callback_status FROM reconciliation_cases")
    assert tuple(case) == ("LATE_SUCCESS", txn, "SUCCESS")
    assert any(e["event"] == "payment.reconciliation_case" and e["log_level"] == "error" for e in logs)
    assert await inquiries.sweep() == 0
    assert provider.asked == [txn]  # not asked again


async def test_a_failure_found_later_confirms_the_outcome(db: Database, provider: FakeProvider) -> None:
    payment_id, txn = await timed_out(db, provider)
    provider.statuses[txn] = "FAILED"
    assert await LateInquiries(db, provider.client, source=SOURCE, interval_seconds=INTERVAL).sweep() == 1
    after = await state(db, payment_id)
    assert (after["status"], after["asking"], after["cases"], after["events"]) == ("FAILED", False, 0, 0)


@pytest.mark.parametrize("down", [False, True], ids=["still-processing", "provider-down"])
async def test_no_final_answer_asks_again_after_the_interval(db: Database, provider: FakeProvider, down: bool) -> None:
    payment_id, txn = await timed_out(db, provider)
    provider.statuses[txn] = "PROCESSING"
    provider.down = down
    inquiries = LateInquiries(db, provider.client, source=SOURCE, interval_seconds=INTERVAL)
    assert await inquiries.sweep() == 0
    after = await state(db, payment_id)
    assert after["asking"] and after["cases"] == 0
    assert INTERVAL - 60 < float(after["next_in"]) <= INTERVAL  # type: ignore[arg-type]
    assert await inquiries.sweep() == 0  # not due again yet
    assert provider.asked == [txn]


async def test_the_horizon_ends_the_inquiries_with_an_error_log(db: Database, provider: FakeProvider) -> None:
    payment_id, txn = await timed_out(db, provider, horizon_minutes=-1)
    provider.statuses[txn] = "PROCESSING"
    with capture_logs() as logs:
        assert await LateInquiries(db, provider.client, source=SOURCE, interval_seconds=INTERVAL).sweep() == 1
    after = await state(db, payment_id)
    assert (after["asking"], after["cases"]) == (False, 0)
    [gave_up] = [e for e in logs if e["event"] == "payment.late_inquiry_gave_up"]
    assert gave_up["log_level"] == "error" and gave_up["payment_id"] == str(payment_id)


async def test_a_callback_that_arrives_meanwhile_ends_the_inquiries(db: Database, provider: FakeProvider) -> None:
    payment_id, txn = await timed_out(db, provider)
    async with UnitOfWork(db, source=SOURCE) as uow:
        payment = await repository.lock(uow.conn, payment_id)
        assert payment is not None
        await apply_provider_status(uow, payment, "FAILED", txn, confirmed=False)
        await uow.commit()
    assert (await state(db, payment_id))["asking"] is False
    assert await LateInquiries(db, provider.client, source=SOURCE, interval_seconds=INTERVAL).sweep() == 0
    assert provider.asked == []


async def test_a_timeout_while_the_provider_says_processing_schedules_the_inquiries(
    db: Database, provider: FakeProvider
) -> None:
    payment_id, txn = uuid.uuid4(), "ptx_processing"
    provider.payouts[txn], provider.statuses[txn] = str(payment_id), "PROCESSING"
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO payments (payment_id, user_id, wallet_id, amount, currency, recipient, status,"
            " provider_txn_id, created_at, submitted_at, deadline_at)"
            " VALUES ($1, $2, $3, 100, 'RUB', '{}', 'SUBMITTED', $4, now(), now(), now() - interval '1 second')",
            payment_id,
            uuid.uuid4(),
            uuid.uuid4(),
            txn,
        )
        submitted = await repository.get(conn, payment_id)
    assert submitted is not None
    settings = PaymentSettings(late_inquiry_interval_seconds=120, late_inquiry_horizon_seconds=7200)
    await Steps(db, fraud=None, provider=provider.client, settings=settings, source=SOURCE).inquire(submitted)  # type: ignore[arg-type]
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT status, error_code, late_inquiry_at - completed_at AS first, late_inquiry_until - completed_at"
            " AS horizon, (SELECT count(*) FROM outbox) AS events FROM payments"
        )
    assert (row["status"], row["error_code"], row["events"]) == ("FAILED", "TIMEOUT", 1)  # PaymentFailed queued
    assert timedelta(seconds=119) < row["first"] <= timedelta(seconds=121)
    assert timedelta(seconds=7199) < row["horizon"] <= timedelta(seconds=7201)
