"""Merchant Callback's pure rules: the retry schedule and its horizon, the webhook and its signature."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from paysaga.contracts.signatures import SIGNATURE_HEADER, signature_header, verify_signature
from paysaga.services.merchant_callback.domain import (
    DELIVERY_ID_HEADER,
    EVENT_TYPE_HEADER,
    FinalPayment,
    Outcome,
    RetryPolicy,
    check_webhook_url,
    next_attempt_at,
    planned_offsets,
    webhook_body,
    webhook_headers,
    webhook_payload,
)
from paysaga.services.merchant_callback.schemas import SubscriptionRequest
from paysaga.services.merchant_callback.settings import MerchantCallbackSettings

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(initial_seconds=10, max_seconds=3600, horizon_seconds=86_400)
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


# --- backoff and horizon -------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    delays = [POLICY.delay(n, 1.0) for n in range(1, 12)]
    assert delays == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
    assert POLICY.delay(10_000, 1.0) == 3600  # no overflow for huge attempt numbers


def test_jitter_spreads_a_delay_over_its_upper_half() -> None:
    assert POLICY.delay(3, 0.0) == 20
    assert POLICY.delay(3, 0.5) == 30
    assert POLICY.delay(3, 1.0) == 40
    with pytest.raises(ValueError):
        POLICY.delay(3, 1.5)
    with pytest.raises(ValueError):
        POLICY.delay(0, 0.5)


@given(attempt=st.integers(1, 200), jitter=st.floats(0, 1))
def test_every_delay_is_within_its_bounds(attempt: int, jitter: float) -> None:
    ceiling = min(POLICY.max_seconds, POLICY.initial_seconds * 2 ** (attempt - 1))
    assert ceiling / 2 <= POLICY.delay(attempt, jitter) <= ceiling


def test_next_attempt_is_the_backoff_later_before_the_horizon() -> None:
    give_up = POLICY.give_up_at(T0)
    assert give_up == T0 + timedelta(hours=24)
    after_first = next_attempt_at(failed_attempt=1, now=T0, give_up_at=give_up, policy=POLICY, jitter=1.0)
    assert after_first == T0 + timedelta(seconds=10)


def test_the_last_attempt_is_at_the_horizon_and_then_the_delivery_is_dead() -> None:
    give_up = POLICY.give_up_at(T0)
    near = give_up - timedelta(seconds=5)
    assert next_attempt_at(failed_attempt=20, now=near, give_up_at=give_up, policy=POLICY, jitter=1.0) == give_up
    assert next_attempt_at(failed_attempt=21, now=give_up, give_up_at=give_up, policy=POLICY, jitter=0.0) is None
    late = give_up + timedelta(minutes=3)  # e.g. the service was down over the horizon
    assert next_attempt_at(failed_attempt=2, now=late, give_up_at=give_up, policy=POLICY, jitter=0.0) is None


def test_a_day_of_retries() -> None:
    offsets = planned_offsets(POLICY)
    assert offsets[:5] == [0, 10, 30, 70, 150]
    assert offsets[-1] == 86_400  # one last try at the horizon
    assert all(b - a <= 3600 for a, b in itertools.pairwise(offsets))
    assert 25 <= len(offsets) <= 35  # about 30 attempts over 24 h


@given(
    initial=st.floats(0.01, 100),
    factor=st.floats(1, 1000),
    attempts_worth=st.floats(0.01, 500),
    jitter=st.floats(0, 1),
)
def test_schedules_always_end_at_the_horizon(
    initial: float, factor: float, attempts_worth: float, jitter: float
) -> None:
    horizon = initial * attempts_worth
    policy = RetryPolicy(initial_seconds=initial, max_seconds=initial * factor, horizon_seconds=horizon)
    offsets = planned_offsets(policy, jitter)
    assert offsets[0] == 0
    assert all(a < b for a, b in itertools.pairwise(offsets))
    assert offsets[-1] == pytest.approx(horizon, abs=1e-6)  # datetimes have microseconds
    # No gap is shorter than half the first delay but the last, cut at the horizon: at most
    # ceil(horizon / (initial / 2)) gaps (ceil: the delays are rounded to microseconds, so the
    # full gaps may fall just short of the horizon), plus the first attempt and the last.
    assert len(offsets) <= math.ceil(horizon / (initial / 2) - 1e-9) + 2


def test_test_settings_give_a_schedule_of_seconds() -> None:
    policy = RetryPolicy(initial_seconds=0.2, max_seconds=1, horizon_seconds=3)
    offsets = planned_offsets(policy)
    assert offsets[-1] == 3 and len(offsets) >= 4


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(initial_seconds=0, max_seconds=1, horizon_seconds=1)
    with pytest.raises(ValueError):
        RetryPolicy(initial_seconds=10, max_seconds=1, horizon_seconds=1)


def test_settings_defaults_and_lease_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = MerchantCallbackSettings()
    assert (settings.port, settings.consumer_group, settings.retry_horizon_seconds) == (
        8008,
        "merchant-callback",
        86_400,
    )
    monkeypatch.setenv("MERCHANT_CALLBACK_RETRY_HORIZON_SECONDS", "3")
    assert MerchantCallbackSettings().retry_policy().horizon_seconds == 3
    monkeypatch.setenv("MERCHANT_CALLBACK_LEASE_SECONDS", "5")
    with pytest.raises(ValidationError, match="lease_seconds"):
        MerchantCallbackSettings()  # a lease shorter than a request would send a slow webhook twice


# --- the webhook ---------------------------------------------------------------------------------


def test_completed_payload() -> None:
    payment = FinalPayment(
        payment_id="p-1",
        outcome=Outcome.COMPLETED,
        amount=150_000,
        currency="RUB",
        provider_txn_id="txn-9",
        error_code=None,
        occurred_at=datetime(2026, 1, 1, 15, 0, 0, 123000, tzinfo=timezone(timedelta(hours=3))),
    )
    assert webhook_payload(payment) == {
        "eventType": "payment.completed",
        "paymentId": "p-1",
        "status": "COMPLETED",
        "amount": 150_000,
        "currency": "RUB",
        "providerTxnId": "txn-9",
        "errorCode": None,
        "occurredAt": "2026-01-01T12:00:00.123000Z",
    }
    assert orjson.loads(webhook_body(payment)) == webhook_payload(payment)
    assert webhook_body(payment) == webhook_body(payment)  # the same bytes on every attempt


def test_failed_payload_carries_the_error_code_and_maybe_no_txn() -> None:
    payment = FinalPayment(
        payment_id="p-2",
        outcome=Outcome.FAILED,
        amount=1,
        currency="USD",
        provider_txn_id=None,
        error_code="FRAUD_SUSPECTED",
        occurred_at=T0,
    )
    payload = webhook_payload(payment)
    assert (payload["eventType"], payload["status"]) == ("payment.failed", "FAILED")
    assert (payload["providerTxnId"], payload["errorCode"]) == (None, "FRAUD_SUSPECTED")
    assert list(payload) == [
        "eventType",
        "paymentId",
        "status",
        "amount",
        "currency",
        "providerTxnId",
        "errorCode",
        "occurredAt",
    ]


def test_a_naive_time_is_refused() -> None:
    payment = FinalPayment("p", Outcome.FAILED, 1, "RUB", None, "TIMEOUT", datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        webhook_payload(payment)


def test_headers_carry_a_verifiable_signature_and_the_delivery_id() -> None:
    body = b'{"paymentId":"p-1"}'
    secret = "s" * 16
    headers = webhook_headers(
        delivery_id="d-1", event_type="payment.completed", signature=signature_header(secret, body)
    )
    assert headers[DELIVERY_ID_HEADER] == "d-1"
    assert headers[EVENT_TYPE_HEADER] == "payment.completed"
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(secret, body, headers[SIGNATURE_HEADER])
    assert not verify_signature("t" * 16, body, headers[SIGNATURE_HEADER])
    assert not verify_signature(secret, body + b" ", headers[SIGNATURE_HEADER])


# --- subscription input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://merchant.example/hooks", "http://127.0.0.1:8080/cb?x=1", "https://[::1]:9000/", "HTTPS://M.EXAMPLE"],
)
def test_accepted_urls(url: str) -> None:
    assert check_webhook_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "merchant.example/hooks",
        "/relative/path",
        "ftp://merchant.example/",
        "https://",
        "https:///path",
        "https://user:pw@merchant.example/",
        "https://merchant.example/#frag",
        "https://merchant.example:99999/",
        "https://merchant .example/",
        "javascript:alert(1)",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(ValueError):
        check_webhook_url(url)


def test_subscription_request_validation() -> None:
    ok = SubscriptionRequest.model_validate(
        {"accountNumber": "40817810700000000001", "url": "https://m.example/h", "secret": "0123456789abcdef"}
    )
    assert ok.account_number == "40817810700000000001"
    for bad in (
        {"accountNumber": "4081781070000000000", "url": "https://m.example/h", "secret": "0123456789abcdef"},
        {"accountNumber": "4081781070000000000a", "url": "https://m.example/h", "secret": "0123456789abcdef"},
        {"accountNumber": "40817810700000000001", "url": "m.example/h", "secret": "0123456789abcdef"},
        {"accountNumber": "40817810700000000001", "url": "https://m.example/h", "secret": "short"},
        {"accountNumber": "40817810700000000001", "url": "https://m.example/h", "secret": " " * 20},
        {"accountNumber": "40817810700000000001", "url": "https://m.example/h"},
    ):
        with pytest.raises(ValidationError):
            SubscriptionRequest.model_validate(bad)
