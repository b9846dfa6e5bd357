"""Reconciliation rules (pure: plain data in, differences out; no I/O, no clients).

Two checks, each on figures the services' ops APIs give:

- **Funds**: per currency, the sum of the wallets' balances (Wallet `GET /v1/balances`: `balance`,
  reserved money included) must equal the balance of Customer funds (Core Banking
  `GET /v1/accounts/2100/balances`). A top-up credits both sides and a completed payout debits both;
  a reservation or a failed payment moves neither.
- **Payments**: each payment's final state in Payment (`GET /v1/finals`) must match how Wallet settled
  its reservation (`GET /v1/settlements`): COMPLETED ↔ COMMITTED, FAILED ↔ RELEASED; a payment on only
  one side is a difference too.

Both sides are read at slightly different moments while events are in flight, so a difference may be
transient: a job re-reads before it reports one, and reads a time window that ended a while ago. For
the payments, fetch both lists for the window widened by a margin on each side (longer than Wallet
takes to apply a final event) and pass the window: only payments with a side inside it are judged, so
a payment final just before the window and settled just inside it is not reported as missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar


class PaymentStatus(StrEnum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class SettlementStatus(StrEnum):
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


EXPECTED_SETTLEMENT: dict[PaymentStatus, SettlementStatus] = {
    PaymentStatus.COMPLETED: SettlementStatus.COMMITTED,  # the money left the wallet
    PaymentStatus.FAILED: SettlementStatus.RELEASED,  # the money is available again
}


class PaymentDifferenceKind(StrEnum):
    STATUS_MISMATCH = "STATUS_MISMATCH"  # both sides know the payment; their outcomes disagree
    MISSING_IN_WALLET = "MISSING_IN_WALLET"  # final in Payment, its reservation not settled in Wallet
    MISSING_IN_PAYMENT = "MISSING_IN_PAYMENT"  # settled in Wallet, not final in Payment


@dataclass(frozen=True, slots=True)
class PaymentFinal:
    """A payment's final state in Payment; `at` is when it became final (None: unknown)."""

    payment_id: str
    status: PaymentStatus
    at: datetime | None = None

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> PaymentFinal:
        """An item of Payment's `GET /v1/finals`."""
        at = item.get("completedAt")
        return cls(str(item["paymentId"]), PaymentStatus(item["status"]), datetime.fromisoformat(at) if at else None)


@dataclass(frozen=True, slots=True)
class Settlement:
    """How Wallet settled a payment's reservation; `at` is when (None: unknown)."""

    payment_id: str
    status: SettlementStatus
    at: datetime | None = None

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Settlement:
        """An item of Wallet's `GET /v1/settlements`."""
        at = item.get("settledAt")
        return cls(str(item["paymentId"]), SettlementStatus(item["status"]), datetime.fromisoformat(at) if at else None)


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end): the time range a reconciliation run judges."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")

    def contains(self, at: datetime | None) -> bool:
        return at is None or self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class FundsDifference:
    """In one currency, the wallets hold `wallets` and the ledger owes their holders `customer_funds`."""

    currency: str
    wallets: int
    customer_funds: int

    @property
    def difference(self) -> int:
        """wallets - customer funds: > 0, the ledger owes the customers less than their wallets hold."""
        return self.wallets - self.customer_funds


@dataclass(frozen=True, slots=True)
class PaymentDifference:
    payment_id: str
    kind: PaymentDifferenceKind
    payment_status: PaymentStatus | None
    wallet_status: SettlementStatus | None


@dataclass(frozen=True, slots=True)
class Report:
    funds: tuple[FundsDifference, ...]
    payments: tuple[PaymentDifference, ...]

    @property
    def clean(self) -> bool:
        return not self.funds and not self.payments


def wallet_balances_from(body: Mapping[str, Any]) -> dict[str, int]:
    """currency → sum of the wallets' balances, from Wallet's `GET /v1/balances`."""
    return {c["currency"]: int(c["balance"]) for c in body["currencies"]}


def customer_funds_from(body: Mapping[str, Any]) -> dict[str, int]:
    """currency → balance, from Core Banking's `GET /v1/accounts/2100/balances`."""
    if body.get("code") != "2100":
        raise ValueError(f"expected the balances of account 2100 (Customer funds), got {body.get('code')!r}")
    return {c["currency"]: int(c["balance"]) for c in body["currencies"]}


def compare_funds(wallet_balances: Mapping[str, int], customer_funds: Mapping[str, int]) -> list[FundsDifference]:
    """The currencies where the wallets' total and Customer funds differ (a currency missing on a side
    counts as 0 there), by currency."""
    return [
        FundsDifference(currency, wallet_balances.get(currency, 0), customer_funds.get(currency, 0))
        for currency in sorted(set(wallet_balances) | set(customer_funds))
        if wallet_balances.get(currency, 0) != customer_funds.get(currency, 0)
    ]


_Side = TypeVar("_Side", PaymentFinal, Settlement)


def _by_id(items: Iterable[_Side], side: str) -> dict[str, _Side]:
    """The items by payment id; the same payment twice with another status is an input error."""
    by_id: dict[str, _Side] = {}
    for item in items:
        seen = by_id.setdefault(item.payment_id, item)
        if seen.status != item.status:
            raise ValueError(f"{side} lists payment {item.payment_id} as {seen.status} and as {item.status}")
    return by_id


def compare_payments(
    finals: Iterable[PaymentFinal], settlements: Iterable[Settlement], *, window: Window | None = None
) -> list[PaymentDifference]:
    """The payments whose final state and settlement disagree or are on one side only, by payment id.

    With a `window`, a payment is judged only if a side has it inside the window (see the module's
    docstring: the lists are fetched for a wider range, so the other side of an edge case is at hand)."""
    by_payment = _by_id(finals, "Payment")
    by_wallet = _by_id(settlements, "Wallet")
    differences = []
    for payment_id in sorted(by_payment.keys() | by_wallet.keys()):
        final, settled = by_payment.get(payment_id), by_wallet.get(payment_id)
        if window is not None and not any(side is not None and window.contains(side.at) for side in (final, settled)):
            continue
        if final is not None and settled is not None:
            if EXPECTED_SETTLEMENT[final.status] is settled.status:
                continue
            kind = PaymentDifferenceKind.STATUS_MISMATCH
        else:
            kind = (
                PaymentDifferenceKind.MISSING_IN_WALLET if settled is None else PaymentDifferenceKind.MISSING_IN_PAYMENT
            )
        differences.append(
            PaymentDifference(
                payment_id,
                kind,
                final.status if final is not None else None,
                settled.status if settled is not None else None,
            )
        )
    return differences


def reconcile(
    *,
    wallet_balances: Mapping[str, int],
    customer_funds: Mapping[str, int],
    finals: Iterable[PaymentFinal],
    settlements: Iterable[Settlement],
    window: Window | None = None,
) -> Report:
    """Both checks; `Report.clean` when nothing differs."""
    return Report(
        funds=tuple(compare_funds(wallet_balances, customer_funds)),
        payments=tuple(compare_payments(finals, settlements, window=window)),
    )


FUNDS_MISMATCH = "FUNDS_MISMATCH"


@dataclass(frozen=True, slots=True)
class Finding:
    """A difference as a case names it: one open case per (kind, subject), whatever the runs that see it.

    `subject` is the currency of a funds difference, the payment id of a payment difference; `evidence`
    is the difference as found (camelCase, as the ops API shows it)."""

    kind: str
    subject: str
    evidence: dict[str, Any]


def findings(report: Report) -> list[Finding]:
    """The cases a report opens (or keeps open), funds first."""
    funds = [
        Finding(
            FUNDS_MISMATCH,
            d.currency,
            {
                "currency": d.currency,
                "wallets": d.wallets,
                "customerFunds": d.customer_funds,
                "difference": d.difference,
            },
        )
        for d in report.funds
    ]
    payments = [
        Finding(
            d.kind.value,
            d.payment_id,
            {
                "paymentId": d.payment_id,
                "kind": d.kind.value,
                "paymentStatus": d.payment_status.value if d.payment_status else None,
                "walletStatus": d.wallet_status.value if d.wallet_status else None,
            },
        )
        for d in report.payments
    ]
    return funds + payments
