"""The wallet's rules without a database: reserve, top up, settle."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.services.wallet.domain import (
    MAX_BALANCE,
    BalanceLimitExceeded,
    CurrencyMismatch,
    InsufficientFunds,
    LedgerKind,
    Movement,
    Reservation,
    ReservationConflict,
    ReservationStatus,
    Wallet,
)

pytestmark = pytest.mark.unit

RECIPIENT = {"accountNumber": "40817810700000000001", "bankBic": "044525225", "name": "Иван"}


def wallet(balance: int, reserved: int = 0, currency: str = "RUB") -> Wallet:
    return Wallet(uuid.uuid4(), uuid.uuid4(), currency, balance, reserved, datetime.now(UTC))


def reservation(status: ReservationStatus, amount: int = 300) -> Reservation:
    return Reservation(uuid.uuid4(), uuid.uuid4(), amount, "RUB", RECIPIENT, status, datetime.now(UTC))


def test_a_reservation_holds_the_amount_without_touching_the_balance() -> None:
    movement = wallet(1_000, reserved=200).reserve(800, "RUB")
    assert movement == Movement(LedgerKind.RESERVE, 800)
    assert (movement.balance_delta, movement.reserved_delta) == (0, 800)


def test_a_reservation_above_the_available_amount_is_refused() -> None:
    with pytest.raises(InsufficientFunds) as refused:
        wallet(1_000, reserved=200).reserve(801, "RUB")
    assert (refused.value.available, refused.value.amount) == (800, 801)
    assert str(refused.value) == "available 800 is less than the amount 801"


def test_a_reservation_in_another_currency_is_refused_before_the_funds_are_checked() -> None:
    with pytest.raises(CurrencyMismatch, match="the wallet holds RUB, the payment is in USD"):
        wallet(0).reserve(1, "USD")


def test_a_top_up_credits_the_balance() -> None:
    movement = wallet(0).top_up(700)
    assert (movement.kind, movement.balance_delta, movement.reserved_delta) == (LedgerKind.TOP_UP, 700, 0)


def test_a_top_up_past_the_balance_limit_is_refused() -> None:
    assert wallet(MAX_BALANCE - 5).top_up(5).balance_delta == 5
    with pytest.raises(BalanceLimitExceeded):
        wallet(MAX_BALANCE - 5).top_up(6)
    with pytest.raises(BalanceLimitExceeded):
        wallet(2**63 - 1).top_up(1)  # beyond the bigint column: never reaches the database


def test_a_completed_payment_pays_the_held_money_out() -> None:
    movement = reservation(ReservationStatus.RESERVED).settle(ReservationStatus.COMMITTED)
    assert movement is not None
    assert (movement.kind, movement.amount) == (LedgerKind.PAYOUT, 300)
    assert (movement.balance_delta, movement.reserved_delta) == (-300, -300)


def test_a_failed_payment_releases_the_held_money() -> None:
    movement = reservation(ReservationStatus.RESERVED).settle(ReservationStatus.RELEASED)
    assert movement is not None
    assert (movement.kind, movement.amount) == (LedgerKind.RELEASE, 300)
    assert (movement.balance_delta, movement.reserved_delta) == (0, -300)


@pytest.mark.parametrize("settled", [ReservationStatus.COMMITTED, ReservationStatus.RELEASED])
@pytest.mark.parametrize("outcome", [ReservationStatus.COMMITTED, ReservationStatus.RELEASED])
def test_an_already_settled_reservation_moves_nothing(settled: ReservationStatus, outcome: ReservationStatus) -> None:
    assert reservation(settled).settle(outcome) is None


def test_reserved_is_not_an_outcome() -> None:
    with pytest.raises(ValueError):
        reservation(ReservationStatus.RESERVED).settle(ReservationStatus.RESERVED)


def test_a_repeated_reservation_must_carry_the_same_details() -> None:
    held = reservation(ReservationStatus.RESERVED)
    held.check_repeat(held.wallet_id, 300, "RUB", dict(RECIPIENT))
    for other in [
        (uuid.uuid4(), 300, "RUB", RECIPIENT),
        (held.wallet_id, 301, "RUB", RECIPIENT),
        (held.wallet_id, 300, "EUR", RECIPIENT),
        (held.wallet_id, 300, "RUB", {**RECIPIENT, "name": "Пётр"}),
    ]:
        with pytest.raises(ReservationConflict, match=f"payment {held.payment_id} was reserved with other details"):
            held.check_repeat(*other)


@given(
    balance=st.integers(0, 10**6),
    reserved_share=st.floats(0, 1),
    amount=st.integers(1, 10**6),
    completes=st.booleans(),
)
def test_reserve_then_settle_keeps_the_books(balance: int, reserved_share: float, amount: int, completes: bool) -> None:
    """Whatever the amounts: nothing goes negative, and available never exceeds the balance."""
    before = wallet(balance, reserved=int(balance * reserved_share))
    try:
        held = before.reserve(amount, "RUB")
    except InsufficientFunds:
        assert amount > before.available
        return
    reserved = before.reserved + held.reserved_delta
    assert before.balance + held.balance_delta == before.balance and 0 <= reserved <= before.balance
    outcome = ReservationStatus.COMMITTED if completes else ReservationStatus.RELEASED
    settled = reservation(ReservationStatus.RESERVED, amount).settle(outcome)
    assert settled is not None
    after_balance = before.balance + settled.balance_delta
    after_reserved = reserved + settled.reserved_delta
    assert after_reserved == before.reserved
    assert 0 <= after_reserved <= after_balance
    assert after_balance == before.balance - (amount if completes else 0)
