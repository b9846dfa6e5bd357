"""Anti-Fraud rules: limits, velocity window, blocklist, rule order and score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.services.antifraud.domain import (
    RULE_ORDER,
    Decision,
    Limits,
    PaymentToCheck,
    PriorPayment,
    Reason,
    Velocity,
    evaluate,
    in_window,
    velocity,
)

pytestmark = pytest.mark.unit

AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
LIMITS = Limits(amount_limit=1_000_000, window=HOUR, max_count=3, max_sum=2_500_000)


def payment(amount: int = 100_000, *, payment_id: str = "p-now", currency: str = "RUB") -> PaymentToCheck:
    return PaymentToCheck(
        payment_id=payment_id,
        user_id="u-1",
        wallet_id="w-1",
        amount=amount,
        currency=currency,
        account_number="40817810099910004312",
        bank_bic="044525225",
        recipient_name="Ivan Petrov",
        created_at=AT,
    )


def prior(
    payment_id: str,
    amount: int = 100_000,
    *,
    ago: timedelta = timedelta(minutes=5),
    currency: str = "RUB",
    failed: bool = False,
) -> PriorPayment:
    return PriorPayment(payment_id, amount, currency, AT - ago, failed_or_denied=failed)


def nothing_before(p: PaymentToCheck) -> Velocity:
    return velocity([], p, AT, HOUR)


# --- amount limit -------------------------------------------------------------------------------


def test_amount_at_the_limit_is_allowed_and_one_minor_unit_more_is_denied() -> None:
    at_limit = payment(LIMITS.amount_limit)
    verdict = evaluate(at_limit, nothing_before(at_limit), False, LIMITS)
    assert verdict.decision is Decision.ALLOW and verdict.reason == "" and verdict.score == 1.0

    above = payment(LIMITS.amount_limit + 1)
    verdict = evaluate(above, nothing_before(above), False, LIMITS)
    assert verdict.decision is Decision.DENY
    assert verdict.reason == "AMOUNT_LIMIT"
    assert verdict.score == 1.0


# --- velocity -----------------------------------------------------------------------------------


def test_velocity_counts_the_checked_payment_once_whether_or_not_it_was_already_recorded() -> None:
    p = payment(300_000)
    others = [prior("a", 100_000), prior("b", 200_000)]
    without = velocity(others, p, AT, HOUR)
    with_itself = velocity([*others, prior("p-now", 300_000)], p, AT, HOUR)
    assert without == with_itself == Velocity(count=3, total=600_000)


def test_velocity_window_is_half_open_ending_at_the_payment() -> None:
    p = payment(1)
    entries = [
        prior("exactly-window-ago", 10, ago=HOUR),  # out: the window is (at - window, at]
        prior("just-inside", 20, ago=HOUR - timedelta(microseconds=1)),
        prior("same-instant", 40, ago=timedelta(0)),  # in
        prior("later", 80, ago=-timedelta(seconds=1)),  # created after the checked payment: out
    ]
    assert velocity(entries, p, AT, HOUR) == Velocity(count=3, total=61)


def test_velocity_sum_leaves_out_other_currencies_and_failed_or_denied_payments_but_counts_them() -> None:
    p = payment(1_000)
    entries = [
        prior("rub", 100),
        prior("usd", 10_000, currency="USD"),
        prior("failed", 20_000, failed=True),
    ]
    assert velocity(entries, p, AT, HOUR) == Velocity(count=4, total=1_100)


def test_duplicate_entries_of_one_payment_count_once() -> None:
    p = payment(1)
    assert velocity([prior("a", 5), prior("a", 5), prior("a", 5)], p, AT, HOUR) == Velocity(2, 6)


def test_count_limit_allows_max_count_payments_and_denies_the_next() -> None:
    p = payment()
    two_before = velocity([prior("a"), prior("b")], p, AT, HOUR)
    assert two_before.count == LIMITS.max_count
    assert evaluate(p, two_before, False, LIMITS).decision is Decision.ALLOW

    three_before = velocity([prior("a"), prior("b"), prior("c")], p, AT, HOUR)
    verdict = evaluate(p, three_before, False, LIMITS)
    assert verdict.decision is Decision.DENY and verdict.reason == "VELOCITY_COUNT"


def test_sum_limit_denies_when_the_total_with_this_payment_is_above_it() -> None:
    p = payment(600_000)
    v = velocity([prior("a", 1_000_000), prior("b", 1_000_000)], p, AT, HOUR)
    verdict = evaluate(p, v, False, LIMITS)
    assert v.total == 2_600_000
    assert verdict.decision is Decision.DENY and verdict.reasons == (Reason.VELOCITY_SUM,)

    p = payment(500_000)
    v = velocity([prior("a", 1_000_000), prior("b", 1_000_000)], p, AT, HOUR)
    assert evaluate(p, v, False, LIMITS).decision is Decision.ALLOW  # exactly the limit


# --- blocklist, order, score --------------------------------------------------------------------


def test_blocked_recipient_is_denied_with_score_one() -> None:
    p = payment(1)
    verdict = evaluate(p, nothing_before(p), True, LIMITS)
    assert verdict.decision is Decision.DENY
    assert verdict.reason == "RECIPIENT_BLOCKED"
    assert verdict.score == 1.0


def test_the_first_tripped_rule_in_order_is_the_reason_and_all_are_listed() -> None:
    p = payment(LIMITS.amount_limit * 3)
    v = velocity([prior(str(i)) for i in range(5)], p, AT, HOUR)
    verdict = evaluate(p, v, True, LIMITS)
    assert verdict.reason == "AMOUNT_LIMIT"
    assert verdict.reasons == RULE_ORDER


def test_score_of_an_allowed_payment_is_its_largest_ratio_to_a_limit() -> None:
    p = payment(250_000)  # 0.25 of the amount limit; count 1/3; sum 0.1
    verdict = evaluate(p, nothing_before(p), False, LIMITS)
    assert verdict.decision is Decision.ALLOW
    assert verdict.score == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount_limit": 0},
        {"max_count": 0},
        {"max_sum": -1},
        {"window": timedelta(0)},
    ],
)
def test_limits_must_be_positive(kwargs: dict) -> None:
    values = {"amount_limit": 1, "window": HOUR, "max_count": 1, "max_sum": 1, **kwargs}
    with pytest.raises(ValueError, match="positive"):
        Limits(**values)


# --- properties ---------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=10**12)
limits_st = st.builds(
    Limits,
    amount_limit=amounts,
    window=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=2)),
    max_count=st.integers(min_value=1, max_value=50),
    max_sum=amounts,
)
priors_st = st.lists(
    st.builds(
        PriorPayment,
        payment_id=st.sampled_from([f"p{i}" for i in range(12)] + ["p-now"]),
        amount=amounts,
        currency=st.sampled_from(["RUB", "USD"]),
        created_at=st.timedeltas(min_value=-timedelta(hours=1), max_value=timedelta(days=3)).map(lambda ago: AT - ago),
        failed_or_denied=st.booleans(),
    ),
    max_size=40,
)


@given(amount=amounts, entries=priors_st, blocked=st.booleans(), limits=limits_st)
def test_deny_exactly_when_a_limit_is_exceeded_and_score_stays_in_range(
    amount: int, entries: list[PriorPayment], blocked: bool, limits: Limits
) -> None:
    p = payment(amount)
    v = velocity(entries, p, AT, limits.window)
    verdict = evaluate(p, v, blocked, limits)
    exceeded = amount > limits.amount_limit or v.count > limits.max_count or v.total > limits.max_sum or blocked
    assert (verdict.decision is Decision.DENY) == exceeded
    assert 0.0 <= verdict.score <= 1.0
    if verdict.decision is Decision.DENY:
        assert verdict.score == 1.0
        assert verdict.reason == verdict.reasons[0].value
    else:
        assert verdict.reason == "" and verdict.reasons == ()
    assert list(verdict.reasons) == [r for r in RULE_ORDER if r in verdict.reasons]  # rule order kept


@given(entries=priors_st, limits=limits_st)
def test_velocity_ignores_order_duplicates_and_the_payment_itself(entries: list[PriorPayment], limits: Limits) -> None:
    p = payment(7)
    v = velocity(entries, p, AT, limits.window)
    distinct_in_window = {
        e.payment_id for e in entries if e.payment_id != p.payment_id and in_window(e.created_at, AT, limits.window)
    }
    assert v.count == 1 + len(distinct_in_window)
    assert v.total >= p.amount
    assert velocity(list(reversed(entries)), p, AT, limits.window).count == v.count
    first_seen = list({e.payment_id: e for e in reversed(entries)}.values())  # one entry per payment
    assert velocity(first_seen + first_seen, p, AT, limits.window) == velocity(first_seen, p, AT, limits.window)


@given(small=amounts, extra=amounts, entries=priors_st, blocked=st.booleans(), limits=limits_st)
def test_a_larger_amount_never_turns_a_deny_into_an_allow(
    small: int, extra: int, entries: list[PriorPayment], blocked: bool, limits: Limits
) -> None:
    def decide(amount: int) -> Decision:
        p = payment(amount)
        return evaluate(p, velocity(entries, p, AT, limits.window), blocked, limits).decision

    if decide(small) is Decision.DENY:
        assert decide(small + extra) is Decision.DENY


@given(
    entries=priors_st,
    new=st.builds(
        PriorPayment, payment_id=st.just("p-new"), amount=amounts, currency=st.just("RUB"), created_at=st.just(AT)
    ),
)
def test_one_more_payment_in_the_window_never_lowers_the_count_or_the_sum(
    entries: list[PriorPayment], new: PriorPayment
) -> None:
    p = payment(1)
    before = velocity(entries, p, AT, HOUR)
    after = velocity([*entries, new], p, AT, HOUR)
    assert after.count == before.count + 1
    assert after.total == before.total + new.amount
