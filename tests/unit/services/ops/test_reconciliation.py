"""Reconciliation rules: wallets vs Customer funds per currency, Payment's finals vs Wallet's settlements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.services.ops.reconciliation import (
    FUNDS_MISMATCH,
    Finding,
    FundsDifference,
    PaymentDifference,
    PaymentDifferenceKind,
    PaymentFinal,
    PaymentStatus,
    Report,
    Settlement,
    SettlementStatus,
    Window,
    compare_funds,
    compare_payments,
    customer_funds_from,
    findings,
    reconcile,
    wallet_balances_from,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
COMPLETED, FAILED = PaymentStatus.COMPLETED, PaymentStatus.FAILED
COMMITTED, RELEASED = SettlementStatus.COMMITTED, SettlementStatus.RELEASED


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- funds ----------------------------------------------------------------------------------------


def test_equal_funds_per_currency_make_no_difference() -> None:
    assert compare_funds({"RUB": 150_000, "USD": 7}, {"USD": 7, "RUB": 150_000}) == []


def test_a_currency_that_differs_is_listed_with_both_figures() -> None:
    (diff,) = compare_funds({"RUB": 150_000, "USD": 7}, {"RUB": 149_000, "USD": 7})
    assert diff == FundsDifference("RUB", wallets=150_000, customer_funds=149_000)
    assert diff.difference == 1_000


def test_a_currency_on_one_side_only_counts_as_zero_on_the_other() -> None:
    assert compare_funds({"EUR": 0, "RUB": 10}, {"USD": -5}) == [
        FundsDifference("RUB", 10, 0),
        FundsDifference("USD", 0, -5),
    ]  # EUR: 0 on both sides (wallets that hold nothing), not a difference


@given(st.dictionaries(st.sampled_from(["RUB", "USD", "EUR", "KZT"]), st.integers(-(10**17), 10**17)))
def test_a_side_compared_with_itself_never_differs(figures: dict[str, int]) -> None:
    assert compare_funds(figures, dict(figures)) == []


# --- payments -------------------------------------------------------------------------------------


def test_matching_outcomes_make_no_difference() -> None:
    finals = [PaymentFinal("p1", COMPLETED), PaymentFinal("p2", FAILED)]
    settlements = [Settlement("p2", RELEASED), Settlement("p1", COMMITTED)]
    assert compare_payments(finals, settlements) == []


def test_each_kind_of_difference_is_listed_by_payment_id() -> None:
    finals = [
        PaymentFinal("p4", COMPLETED),  # released in Wallet: the customer got the money back AND it was paid out
        PaymentFinal("p1", FAILED),  # committed in Wallet: the money left, the payout failed
        PaymentFinal("p3", COMPLETED),  # Wallet never settled it
        PaymentFinal("p5", FAILED),  # fine
    ]
    settlements = [
        Settlement("p1", COMMITTED),
        Settlement("p2", RELEASED),  # Payment has no final state for it
        Settlement("p4", RELEASED),
        Settlement("p5", RELEASED),
    ]
    assert compare_payments(finals, settlements) == [
        PaymentDifference("p1", PaymentDifferenceKind.STATUS_MISMATCH, FAILED, COMMITTED),
        PaymentDifference("p2", PaymentDifferenceKind.MISSING_IN_PAYMENT, None, RELEASED),
        PaymentDifference("p3", PaymentDifferenceKind.MISSING_IN_WALLET, COMPLETED, None),
        PaymentDifference("p4", PaymentDifferenceKind.STATUS_MISMATCH, COMPLETED, RELEASED),
    ]


def test_a_payment_listed_twice_the_same_way_counts_once_and_a_contradiction_is_an_input_error() -> None:
    assert compare_payments([PaymentFinal("p1", COMPLETED)] * 2, [Settlement("p1", COMMITTED)]) == []
    with pytest.raises(ValueError, match="Wallet lists payment p1"):
        compare_payments([], [Settlement("p1", COMMITTED), Settlement("p1", RELEASED)])


def test_with_a_window_only_payments_with_a_side_inside_it_are_judged() -> None:
    window = Window(at(0), at(60))
    finals = [
        PaymentFinal("edge-before", COMPLETED, at(-1)),  # final just before, settled just inside: judged, fine
        PaymentFinal("edge-after", FAILED, at(59.9)),  # final just inside, settled just after: judged, fine
        PaymentFinal("before", COMPLETED, at(-30)),  # wholly before the window (its settlement is outside)
        PaymentFinal("inside-missing", COMPLETED, at(10)),
        PaymentFinal("margin-missing", COMPLETED, at(70)),  # only in the margin: the next run judges it
    ]
    settlements = [
        Settlement("edge-before", COMMITTED, at(0.2)),
        Settlement("edge-after", RELEASED, at(60.1)),
        Settlement("inside-orphan", RELEASED, at(30)),
        Settlement("margin-orphan", COMMITTED, at(-20)),
    ]
    assert compare_payments(finals, settlements, window=window) == [
        PaymentDifference("inside-missing", PaymentDifferenceKind.MISSING_IN_WALLET, COMPLETED, None),
        PaymentDifference("inside-orphan", PaymentDifferenceKind.MISSING_IN_PAYMENT, None, RELEASED),
    ]
    # Without the window, everything given is judged.
    assert {d.payment_id for d in compare_payments(finals, settlements)} == {
        "before",
        "inside-missing",
        "margin-missing",
        "inside-orphan",
        "margin-orphan",
    }


def test_a_window_is_half_open_and_not_backwards() -> None:
    window = Window(at(0), at(60))
    assert window.contains(at(0)) and not window.contains(at(60)) and window.contains(None)
    with pytest.raises(ValueError):
        Window(at(1), at(0))


# --- from the APIs' bodies, and both checks together -----------------------------------------------


def test_reconcile_reads_the_ops_apis_bodies_and_reports_both_checks() -> None:
    wallet_body = {
        "currencies": [
            {"currency": "RUB", "wallets": 3, "balance": 900_000, "reserved": 1_000, "available": 899_000},
            {"currency": "USD", "wallets": 1, "balance": 500, "reserved": 0, "available": 500},
        ],
        "asOf": "2026-12-01T10:05:00Z",
    }
    ledger_body = {
        "code": "2100",
        "name": "Customer funds",
        "type": "LIABILITY",
        "currencies": [
            {"currency": "RUB", "debits": 100_000, "credits": 1_000_000, "balance": 900_000},
            {"currency": "USD", "debits": 0, "credits": 400, "balance": 400},
        ],
    }
    finals = [
        PaymentFinal.from_json(
            {"paymentId": "p1", "status": "COMPLETED", "errorCode": None, "completedAt": "2026-12-01T10:00:01Z"}
        ),
        PaymentFinal.from_json(
            {"paymentId": "p2", "status": "FAILED", "errorCode": "TIMEOUT", "completedAt": "2026-12-01T10:00:02+00:00"}
        ),
    ]
    settlements = [
        Settlement.from_json({"paymentId": "p1", "status": "COMMITTED", "settledAt": "2026-12-01T10:00:01.5Z"}),
        Settlement.from_json({"paymentId": "p2", "status": "COMMITTED", "settledAt": "2026-12-01T10:00:02.5Z"}),
    ]
    assert finals[0].at == at(1) and settlements[1].at == at(2.5)

    report = reconcile(
        wallet_balances=wallet_balances_from(wallet_body),
        customer_funds=customer_funds_from(ledger_body),
        finals=finals,
        settlements=settlements,
        window=Window(at(0), at(60)),
    )

    assert not report.clean
    assert report.funds == (FundsDifference("USD", 500, 400),)
    assert report.payments == (PaymentDifference("p2", PaymentDifferenceKind.STATUS_MISMATCH, FAILED, COMMITTED),)
    clean = reconcile(
        wallet_balances={"RUB": 900_000},
        customer_funds=customer_funds_from({**ledger_body, "currencies": ledger_body["currencies"][:1]}),
        finals=finals[:1],
        settlements=settlements[:1],
    )
    assert clean.clean


def test_customer_funds_are_read_from_account_2100_only() -> None:
    with pytest.raises(ValueError, match="2100"):
        customer_funds_from({"code": "1100", "currencies": []})


def test_each_difference_is_one_case_named_by_its_kind_and_subject() -> None:
    report = Report(
        funds=(FundsDifference("RUB", wallets=1_001, customer_funds=1_000),),
        payments=(
            PaymentDifference("p-1", PaymentDifferenceKind.STATUS_MISMATCH, PaymentStatus.COMPLETED, None),
            PaymentDifference("p-2", PaymentDifferenceKind.MISSING_IN_PAYMENT, None, SettlementStatus.RELEASED),
        ),
    )
    assert findings(report) == [
        Finding(FUNDS_MISMATCH, "RUB", {"currency": "RUB", "wallets": 1_001, "customerFunds": 1_000, "difference": 1}),
        Finding(
            "STATUS_MISMATCH",
            "p-1",
            {"paymentId": "p-1", "kind": "STATUS_MISMATCH", "paymentStatus": "COMPLETED", "walletStatus": None},
        ),
        Finding(
            "MISSING_IN_PAYMENT",
            "p-2",
            {"paymentId": "p-2", "kind": "MISSING_IN_PAYMENT", "paymentStatus": None, "walletStatus": "RELEASED"},
        ),
    ]
    assert findings(Report(funds=(), payments=())) == []
