"""Payment's own metrics against real PostgreSQL: a payment made final is counted once its transaction
commits, with its saga duration; the gauges count stuck payments and open reconciliation cases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from paysaga.platform.db import Database
from paysaga.services.payment import metrics, repository
from paysaga.services.payment.domain import Case, CaseKind, Payment, Status
from tests.integration.services.payment.fake_provider import FakeProvider
from tests.integration.services.payment.test_steps import RECIPIENT, FakeFraud, steps, stored

pytestmark = pytest.mark.integration


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_payment_made_final_is_counted_with_its_saga_duration(db: Database, provider: FakeProvider) -> None:
    denied = {"status": "FAILED", "error_code": "FRAUD_SUSPECTED"}
    before = sample("paysaga_payments_finished_total", **denied)
    durations = sample("paysaga_payment_saga_duration_seconds_count", status="FAILED")
    payment = await stored(db, Status.RECEIVED)
    await steps(db, provider.client, FakeFraud("deny")).check_fraud(payment)
    assert sample("paysaga_payments_finished_total", **denied) == before + 1
    assert sample("paysaga_payment_saga_duration_seconds_count", status="FAILED") == durations + 1


async def test_a_step_that_changes_nothing_final_counts_nothing(db: Database, provider: FakeProvider) -> None:
    finished = sum(
        s.value for f in REGISTRY.collect() for s in f.samples if s.name == "paysaga_payments_finished_total"
    )
    payment = await stored(db, Status.RECEIVED)
    await steps(db, provider.client, FakeFraud("allow")).check_fraud(payment)  # RECEIVED → CHECKED
    assert finished == sum(
        s.value for f in REGISTRY.collect() for s in f.samples if s.name == "paysaga_payments_finished_total"
    )


def _payment(status: Status, initiated_ago: float) -> Payment:
    now = datetime.now(UTC)
    created = now - timedelta(seconds=initiated_ago)
    payment = Payment.receive(
        payment_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        wallet_id=uuid.uuid4(),
        amount=100,
        currency="RUB",
        recipient=RECIPIENT,
        created_at=created,
        now=created,
        deadline_seconds=300,
    )
    if status is Status.FAILED:
        payment.fraud_denied(now)
    return payment


async def test_the_gauges_count_stuck_payments_and_open_cases(db: Database) -> None:
    old_open, fresh_open, old_final = (
        _payment(Status.RECEIVED, 600),
        _payment(Status.RECEIVED, 5),
        _payment(Status.FAILED, 600),
    )
    async with db.connection() as conn:
        for payment in (old_open, fresh_open, old_final):
            assert await repository.add(conn, payment, payment.take_steps())
        case = Case(CaseKind.LATE_SUCCESS, old_final.payment_id, "ptx_1", Status.FAILED, "TIMEOUT", "SUCCESS")
        assert await repository.add_case(conn, case)
        assert await repository.count_stuck(conn, older_than_seconds=120) == 1  # only the old one not final
        assert await repository.count_open_cases(conn) == {"LATE_SUCCESS": 1}

    worker = metrics.gauges(db, stuck_after_seconds=120, every_seconds=0.05)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(100):
            if sample("paysaga_payments_stuck") == 1:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await task
    assert sample("paysaga_payments_stuck") == 1
    assert sample("paysaga_reconciliation_cases_open", kind="LATE_SUCCESS") == 1
    assert sample("paysaga_reconciliation_cases_open", kind="CONFLICTING_CALLBACK") == 0  # every kind, from 0
