"""The worker's steps (check_fraud, submit, inquire) against real PostgreSQL, one outcome each: a fake
Anti-Fraud and the fake provider (fixtures: conftest.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import PaymentCompleted, PaymentFailed, ProviderCallbackReceived
from paysaga.platform.consumer import Delivery
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import HandlerTransaction, UnitOfWork
from paysaga.services.payment import repository
from paysaga.services.payment.domain import Payment, Status
from paysaga.services.payment.fraud_client import FraudUnavailable, FraudVerdict
from paysaga.services.payment.handlers import Steps, apply_callback
from paysaga.services.payment.provider_client import ProviderClient
from paysaga.services.payment.settings import PaymentSettings
from tests.integration.services.payment.fake_provider import FakeProvider

pytestmark = pytest.mark.integration
SOURCE = "/paysaga/payment"  # the event source the composition root gives Payment

SETTINGS = PaymentSettings(
    inquiry_after_seconds=30, inquiry_interval_seconds=10, retry_initial_seconds=2, retry_max_seconds=4
)
RECIPIENT = {"accountNumber": "40817810700000000001", "bankBic": "044525225", "name": "Ivan Petrov"}


@dataclass
class FakeFraud:
    """Anti-Fraud's `check`: `verdict` (allow, deny, unavailable); the payments it was asked about."""

    verdict: str = "allow"
    asked: list[uuid.UUID] = field(default_factory=list)

    async def check(self, payment: Payment) -> FraudVerdict:
        self.asked.append(payment.payment_id)
        if self.verdict == "unavailable":
            raise FraudUnavailable("UNAVAILABLE: connection refused")
        if self.verdict == "deny":
            return FraudVerdict(allowed=False, reason="blocklisted recipient", score=0.99)
        return FraudVerdict(allowed=True, reason="", score=0.01)


def steps(db: Database, provider: ProviderClient, fraud: FakeFraud | None = None) -> Steps:
    return Steps(db, fraud or FakeFraud(), provider, SETTINGS, source=SOURCE)


async def stored(db: Database, status: Status, *, deadline_in: float = 300) -> Payment:
    """A payment in `status` as the worker claims it (leased), due now."""
    now = datetime.now(UTC)
    payment = Payment.receive(
        payment_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        wallet_id=uuid.uuid4(),
        amount=100,
        currency="RUB",
        recipient=RECIPIENT,
        created_at=now,
        now=now - timedelta(seconds=1),
        deadline_seconds=deadline_in + 1,
    )
    if status is not Status.RECEIVED:
        payment.fraud_allowed(now)
    if status is Status.SUBMITTED:
        payment.accepted(f"ptx_{payment.payment_id}", now, inquiry_after_seconds=0)
    async with db.connection() as conn:
        assert await repository.add(conn, payment, payment.take_steps())
        [claimed] = await repository.claim_due(conn, limit=10, lease_seconds=60)
    assert claimed.payment_id == payment.payment_id
    return claimed


async def reloaded(db: Database, payment: Payment) -> Payment:
    async with db.connection() as conn:
        current = await repository.get(conn, payment.payment_id)
    assert current is not None
    return current


async def events(db: Database) -> list[PaymentCompleted | PaymentFailed]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT event_type, payload FROM outbox ORDER BY id")
    kinds: dict[str, type[PaymentCompleted] | type[PaymentFailed]] = {
        "PaymentCompleted": PaymentCompleted,
        "PaymentFailed": PaymentFailed,
    }
    return [
        kinds[name].model_validate_json(bytes(r["payload"]))
        for r in rows
        for name in kinds
        if r["event_type"].endswith(name)
    ]


async def leased(db: Database, payment: Payment) -> bool:
    async with db.connection() as conn:
        return bool(
            await conn.fetchval("SELECT lease_until > now() FROM payments WHERE payment_id = $1", payment.payment_id)
        )


def due_in(payment: Payment) -> float:
    assert payment.next_attempt_at is not None
    return (payment.next_attempt_at - datetime.now(UTC)).total_seconds()


# --- check_fraud --------------------------------------------------------------------------------


async def test_fraud_allow_checks_it_and_the_worker_goes_on(db: Database, provider: FakeProvider) -> None:
    payment = await stored(db, Status.RECEIVED)
    fraud = FakeFraud("allow")
    checked = await steps(db, provider.client, fraud).check_fraud(payment)
    assert checked is not None and checked.status is Status.CHECKED
    assert fraud.asked == [payment.payment_id]
    after = await reloaded(db, payment)
    assert (after.status, after.attempts, after.last_error) == (Status.CHECKED, 0, None)
    assert await leased(db, payment)  # nobody else may claim it: this worker submits it next
    assert await events(db) == []


async def test_fraud_deny_fails_it_as_fraud_suspected(db: Database, provider: FakeProvider) -> None:
    payment = await stored(db, Status.RECEIVED)
    with capture_logs() as logs:
        assert await steps(db, provider.client, FakeFraud("deny")).check_fraud(payment) is None
    after = await reloaded(db, payment)
    assert (after.status, after.error_code, after.next_attempt_at) == (Status.FAILED, "FRAUD_SUSPECTED", None)
    [failed] = await events(db)
    assert isinstance(failed, PaymentFailed)
    assert (failed.payment_id, failed.error_code, failed.provider_txn_id) == (
        str(payment.payment_id),
        "FRAUD_SUSPECTED",
        None,
    )
    assert any(e["event"] == "payment.fraud_denied" for e in logs)
    assert not await leased(db, payment)


async def test_antifraud_unavailable_retries_and_never_lets_it_through(db: Database, provider: FakeProvider) -> None:
    payment = await stored(db, Status.RECEIVED)
    fraud = FakeFraud("unavailable")
    assert await steps(db, provider.client, fraud).check_fraud(payment) is None
    after = await reloaded(db, payment)
    assert (after.status, after.attempts) == (Status.RECEIVED, 1)
    assert (after.last_error or "").startswith("anti-fraud: UNAVAILABLE")
    assert 0.5 <= due_in(after) <= SETTINGS.retry_initial_seconds  # backoff with jitter
    assert not await leased(db, payment)
    assert await steps(db, provider.client, fraud).check_fraud(after) is None  # still down
    again = await reloaded(db, payment)
    assert (again.status, again.attempts) == (Status.RECEIVED, 2)
    assert await events(db) == [] and provider.submissions == []  # never submitted unchecked


async def test_fraud_check_after_the_deadline_times_out_without_asking(db: Database, provider: FakeProvider) -> None:
    payment = await stored(db, Status.RECEIVED, deadline_in=-1)
    fraud = FakeFraud("allow")
    assert await steps(db, provider.client, fraud).check_fraud(payment) is None
    assert fraud.asked == []
    after = await reloaded(db, payment)
    assert (after.status, after.error_code) == (Status.FAILED, "TIMEOUT")
    [failed] = await events(db)
    assert isinstance(failed, PaymentFailed) and failed.error_code == "TIMEOUT"


async def test_fraud_verdict_for_a_payment_moved_on_meanwhile_is_dropped(db: Database, provider: FakeProvider) -> None:
    payment = await stored(db, Status.RECEIVED)
    await steps(db, provider.client).check_fraud(payment)  # another worker got there first
    assert await steps(db, provider.client, FakeFraud("deny")).check_fraud(payment) is None
    assert (await reloaded(db, payment)).status is Status.CHECKED
    assert await events(db) == []


# --- submit -------------------------------------------------------------------------------------


async def test_provider_accepted_submits_it_with_the_payment_id_as_key(db: Database, provider: FakeProvider) -> None:
    payment = await stored(db, Status.CHECKED)
    await steps(db, provider.client).submit(payment)
    pid = str(payment.payment_id)
    assert provider.submissions == [(pid, pid)]
    after = await reloaded(db, payment)
    assert (after.status, after.provider_txn_id, after.attempts) == (Status.SUBMITTED, f"ptx_{pid}", 0)
    assert after.submitted_at is not None
    assert SETTINGS.inquiry_after_seconds - 5 < due_in(after) <= SETTINGS.inquiry_after_seconds  # then ask
    assert not await leased(db, payment)
    assert await events(db) == []


async def test_a_callback_that_came_before_the_submission_is_applied_by_it(
    db: Database, provider: FakeProvider
) -> None:
    payment = await stored(db, Status.CHECKED)
    txn = f"ptx_{payment.payment_id}"
    async with db.connection() as conn:
        for status, ago in (("SUCCESS", 2), ("SUCCESS", 1)):  # and its duplicate
            await repository.store_early_callback(
                conn,
                provider_txn_id=txn,
                event_id=str(uuid.uuid4()),
                status=status,
                received_at=datetime.now(UTC) - timedelta(seconds=ago),
            )
    with capture_logs() as logs:
        await steps(db, provider.client).submit(payment)
    after = await reloaded(db, payment)
    assert (after.status, after.provider_txn_id) == (Status.COMPLETED, txn)
    [completed] = await events(db)
    assert isinstance(completed, PaymentCompleted) and completed.provider_txn_id == txn
    assert [e["event"] for e in logs if e["event"] == "payment.duplicate_callback"] == ["payment.duplicate_callback"]
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM early_callbacks") == 0


@pytest.mark.parametrize("status", [400, 422])
async def test_provider_declined_fails_it_as_rejected(db: Database, provider: FakeProvider, status: int) -> None:
    payment = await stored(db, Status.CHECKED)
    provider.submit_status = status
    await steps(db, provider.client).submit(payment)
    after = await reloaded(db, payment)
    assert (after.status, after.error_code, after.provider_txn_id) == (Status.FAILED, "PROVIDER_REJECTED", None)
    [failed] = await events(db)
    assert isinstance(failed, PaymentFailed) and failed.error_code == "PROVIDER_REJECTED"
    assert len(provider.submissions) == 1


@pytest.mark.parametrize("status", [500, 503])
async def test_provider_5xx_retries_with_the_same_key(db: Database, provider: FakeProvider, status: int) -> None:
    payment = await stored(db, Status.CHECKED)
    provider.submit_status = status
    with capture_logs() as logs:
        await steps(db, provider.client).submit(payment)
    after = await reloaded(db, payment)
    assert (after.status, after.attempts) == (Status.CHECKED, 1)
    assert after.last_error == f'provider: HTTP {status}: {{"title": "no"}}'
    assert 0.5 <= due_in(after) <= SETTINGS.retry_initial_seconds
    assert not await leased(db, payment)
    assert [e["log_level"] for e in logs if e["event"] == "payment.provider_unavailable"] == ["warning"]
    assert await events(db) == []

    provider.submit_status = 201  # the provider is back: the retry goes under the same key
    await steps(db, provider.client).submit(after)
    pid = str(payment.payment_id)
    assert provider.submissions == [(pid, pid), (pid, pid)]
    assert (await reloaded(db, payment)).status is Status.SUBMITTED


async def test_provider_unreachable_retries(db: Database) -> None:
    payment = await stored(db, Status.CHECKED)
    nobody = ProviderClient("http://127.0.0.1:9", api_key="k", callback_url="http://cb", timeout=2)
    try:
        await steps(db, nobody).submit(payment)
    finally:
        await nobody.close()
    after = await reloaded(db, payment)
    assert (after.status, after.attempts) == (Status.CHECKED, 1)
    assert (after.last_error or "").startswith("provider: ")
    assert await events(db) == []


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_wrong_key_or_url_is_retried_and_logged_as_an_error(
    db: Database, provider: FakeProvider, status: int
) -> None:
    payment = await stored(db, Status.CHECKED)
    provider.submit_status = status
    with capture_logs() as logs:
        await steps(db, provider.client).submit(payment)
    after = await reloaded(db, payment)
    assert (after.status, after.attempts) == (Status.CHECKED, 1)  # never taken for a decline
    assert (after.last_error or "").startswith(f"provider: HTTP {status}")
    [logged] = [e for e in logs if e["event"] == "payment.provider_unavailable"]
    assert logged["log_level"] == "error" and logged["payment_id"] == str(payment.payment_id)
    assert await events(db) == []


async def test_unanswered_submissions_until_the_deadline_time_out_with_an_error_log(
    db: Database, provider: FakeProvider
) -> None:
    payment = await stored(db, Status.CHECKED, deadline_in=2)
    provider.submit_status = 503
    await steps(db, provider.client).submit(payment)
    async with db.connection() as conn:  # the deadline passes while it waits for its retry
        await conn.execute("UPDATE payments SET deadline_at = now() - interval '1 second', next_attempt_at = now()")
        [claimed] = await repository.claim_due(conn, limit=10, lease_seconds=60)
    with capture_logs() as logs:
        await steps(db, provider.client).submit(claimed)
    assert len(provider.submissions) == 1  # not asked again after the deadline
    after = await reloaded(db, payment)
    assert (after.status, after.error_code, after.provider_txn_id) == (Status.FAILED, "TIMEOUT", None)
    [failed] = await events(db)
    assert isinstance(failed, PaymentFailed) and failed.error_code == "TIMEOUT"
    [logged] = [e for e in logs if e["event"] == "payment.timeout_unconfirmed_submission"]
    assert logged["log_level"] == "error" and logged["attempts"] == 1


# --- inquire ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status", "error_code"),
    [("SUCCESS", Status.COMPLETED, None), ("FAILED", Status.FAILED, "PROVIDER_DECLINED")],
)
async def test_a_final_inquiry_answer_ends_it(
    db: Database, provider: FakeProvider, answer: str, status: Status, error_code: str | None
) -> None:
    payment = await stored(db, Status.SUBMITTED)
    txn = f"ptx_{payment.payment_id}"
    provider.payouts[txn], provider.statuses[txn] = str(payment.payment_id), answer
    await steps(db, provider.client).inquire(payment)
    assert provider.asked == [txn]
    after = await reloaded(db, payment)
    assert (after.status, after.error_code, after.late_inquiry_at) == (status, error_code, None)
    [event] = await events(db)
    assert event.provider_txn_id == txn
    assert isinstance(event, PaymentCompleted if answer == "SUCCESS" else PaymentFailed)


@pytest.mark.parametrize("down", [False, True], ids=["processing", "provider-down"])
async def test_no_final_inquiry_answer_asks_again_after_the_interval(
    db: Database, provider: FakeProvider, down: bool
) -> None:
    payment = await stored(db, Status.SUBMITTED)
    txn = f"ptx_{payment.payment_id}"
    provider.payouts[txn], provider.statuses[txn] = str(payment.payment_id), "PROCESSING"
    provider.down = down
    await steps(db, provider.client).inquire(payment)
    after = await reloaded(db, payment)
    assert (after.status, after.attempts) == (Status.SUBMITTED, 1)
    assert after.last_error == ("inquiry: no answer" if down else "inquiry: PROCESSING")
    assert SETTINGS.inquiry_interval_seconds - 5 < due_in(after) <= SETTINGS.inquiry_interval_seconds
    assert not await leased(db, payment)
    assert await events(db) == []


async def test_no_final_inquiry_answer_at_the_deadline_times_out(db: Database, provider: FakeProvider) -> None:
    payment = await stored(db, Status.SUBMITTED, deadline_in=-1)
    provider.down = True
    await steps(db, provider.client).inquire(payment)
    after = await reloaded(db, payment)
    txn = f"ptx_{payment.payment_id}"
    assert (after.status, after.error_code, after.provider_txn_id) == (Status.FAILED, "TIMEOUT", txn)
    assert after.late_inquiry_at is not None  # the provider is asked again later (late_inquiries.py)
    [failed] = await events(db)
    assert isinstance(failed, PaymentFailed) and (failed.error_code, failed.provider_txn_id) == ("TIMEOUT", txn)


async def test_an_inquiry_answer_for_a_payment_settled_meanwhile_is_dropped(
    db: Database, provider: FakeProvider
) -> None:
    payment = await stored(db, Status.SUBMITTED)
    txn = f"ptx_{payment.payment_id}"
    provider.payouts[txn], provider.statuses[txn] = str(payment.payment_id), "SUCCESS"
    await steps(db, provider.client).inquire(payment)
    await steps(db, provider.client).inquire(payment)  # a second worker, with the stale copy
    assert (await reloaded(db, payment)).status is Status.COMPLETED
    assert len(await events(db)) == 1


# --- a FAILED callback is confirmed with the provider before anything is released ---------------


async def failed_callback(db: Database, payment: Payment) -> None:
    """The consumer's handler, given a FAILED ProviderCallbackReceived for the payment's payout."""
    txn = f"ptx_{payment.payment_id}"
    event = ProviderCallbackReceived(provider_txn_id=txn, status="FAILED", received_at=datetime.now(UTC))
    meta = EventMeta(id=str(uuid.uuid4()), type="ProviderCallbackReceived", source="/t", time=datetime.now(UTC))
    async with UnitOfWork(db, source=SOURCE) as uow:
        await apply_callback(event, HandlerTransaction(uow), Delivery(meta, "callback-events", 0, 0, txn))
        await uow.commit()


async def cases(db: Database) -> list[tuple[str, str]]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT kind, callback_status FROM reconciliation_cases")
    return [(r["kind"], r["callback_status"]) for r in rows]


async def test_a_failed_callback_alone_releases_nothing_the_provider_is_asked_at_once(
    db: Database, provider: FakeProvider
) -> None:
    payment = await stored(db, Status.SUBMITTED)
    await failed_callback(db, payment)
    after = await reloaded(db, payment)
    assert (after.status, after.error_code) == (Status.SUBMITTED, None)
    assert after.failure_reported_at is not None and due_in(after) <= 0
    assert await events(db) == []  # no PaymentFailed: the wallet keeps the reservation


@pytest.mark.parametrize(
    ("provider_says", "status", "error_code", "case"),
    [
        ("FAILED", Status.FAILED, "PROVIDER_DECLINED", []),
        ("SUCCESS", Status.COMPLETED, None, [("UNCONFIRMED_FAILURE", "FAILED")]),
    ],
    ids=["confirmed", "contradicted"],
)
async def test_the_providers_own_answer_decides_after_a_failed_callback(
    db: Database, provider: FakeProvider, provider_says: str, status: Status, error_code: str | None, case: list
) -> None:
    payment = await stored(db, Status.SUBMITTED)
    await failed_callback(db, payment)
    txn = f"ptx_{payment.payment_id}"
    provider.payouts[txn], provider.statuses[txn] = str(payment.payment_id), provider_says
    await steps(db, provider.client).inquire(await reloaded(db, payment))
    after = await reloaded(db, payment)
    assert (after.status, after.error_code) == (status, error_code)
    [event] = await events(db)
    assert isinstance(event, PaymentFailed if provider_says == "FAILED" else PaymentCompleted)
    assert await cases(db) == case


async def test_a_failed_callback_the_provider_still_calls_processing_waits_for_its_final_word(
    db: Database, provider: FakeProvider
) -> None:
    payment = await stored(db, Status.SUBMITTED)
    await failed_callback(db, payment)
    txn = f"ptx_{payment.payment_id}"
    provider.payouts[txn], provider.statuses[txn] = str(payment.payment_id), "PROCESSING"
    await steps(db, provider.client).inquire(await reloaded(db, payment))
    after = await reloaded(db, payment)
    assert (after.status, after.error_code) == (Status.SUBMITTED, None)
    assert await events(db) == []
    assert 0 < due_in(after) <= SETTINGS.inquiry_interval_seconds
