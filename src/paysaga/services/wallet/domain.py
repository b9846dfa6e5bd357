"""Wallet rules, pure: what a top-up, a reservation and its settlement change.

`available` is derived (balance - reserved), never stored. Every change is a `Movement`, written
as one ledger entry, so balance = available + reserved always and neither goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

MAX_AMOUNT = 10**15  # minor units: a sanity bound far above any real payout or top-up
MAX_BALANCE = 10**17  # minor units: a wallet never holds more (the columns are bigint, 9.2 * 10**18)


class ReservationStatus(StrEnum):
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


class LedgerKind(StrEnum):
    TOP_UP = "TOP_UP"
    RESERVE = "RESERVE"
    PAYOUT = "PAYOUT"
    RELEASE = "RELEASE"


# (balance, reserved) per unit of amount, for each kind of movement.
_DELTAS: dict[LedgerKind, tuple[int, int]] = {
    LedgerKind.TOP_UP: (1, 0),  # money arrives
    LedgerKind.RESERVE: (0, 1),  # a payment starts: held, no longer available
    LedgerKind.PAYOUT: (-1, -1),  # the payment completed: the held money leaves
    LedgerKind.RELEASE: (0, -1),  # the payment failed: the held money is available again
}


@dataclass(frozen=True, slots=True)
class Movement:
    """One change of a wallet's amounts, and the ledger entry that records it."""

    kind: LedgerKind
    amount: int

    @property
    def balance_delta(self) -> int:
        return _DELTAS[self.kind][0] * self.amount

    @property
    def reserved_delta(self) -> int:
        return _DELTAS[self.kind][1] * self.amount


@dataclass(frozen=True, slots=True)
class Wallet:
    wallet_id: UUID
    user_id: UUID
    currency: str
    balance: int
    reserved: int
    created_at: datetime

    @property
    def available(self) -> int:
        return self.balance - self.reserved

    def top_up(self, amount: int) -> Movement:
        """Credit `amount`; raises BalanceLimitExceeded past MAX_BALANCE."""
        if self.balance + amount > MAX_BALANCE:
            raise BalanceLimitExceeded(self.balance, amount)
        return Movement(LedgerKind.TOP_UP, amount)

    def reserve(self, amount: int, currency: str) -> Movement:
        """Hold `amount` for a payment; raises CurrencyMismatch or InsufficientFunds."""
        if currency != self.currency:
            raise CurrencyMismatch(f"the wallet holds {self.currency}, the payment is in {currency}")
        if self.available < amount:
            raise InsufficientFunds(self.available, amount)
        return Movement(LedgerKind.RESERVE, amount)


@dataclass(frozen=True, slots=True)
class Reservation:
    payment_id: UUID
    wallet_id: UUID
    amount: int
    currency: str
    recipient: dict[str, Any]
    status: ReservationStatus
    created_at: datetime

    def check_repeat(self, wallet_id: UUID, amount: int, currency: str, recipient: dict[str, Any]) -> None:
        """A reservation request for this payment again: fine if identical, else ReservationConflict."""
        if (self.wallet_id, self.amount, self.currency, self.recipient) != (wallet_id, amount, currency, recipient):
            raise ReservationConflict(f"payment {self.payment_id} was reserved with other details")

    def settle(self, outcome: ReservationStatus) -> Movement | None:
        """The payment's outcome (COMMITTED: paid out, RELEASED: failed) moves the held money once;
        None when the reservation is already settled (applying it again would move money twice)."""
        if outcome is ReservationStatus.RESERVED:
            raise ValueError("a reservation settles as COMMITTED or RELEASED")
        if self.status is not ReservationStatus.RESERVED:
            return None
        kind = LedgerKind.PAYOUT if outcome is ReservationStatus.COMMITTED else LedgerKind.RELEASE
        return Movement(kind, self.amount)


class WalletError(Exception):
    """A request the wallet refuses; nothing was changed."""


class WalletNotFound(WalletError):
    pass


class CurrencyMismatch(WalletError):
    pass


class InsufficientFunds(WalletError):
    def __init__(self, available: int, amount: int) -> None:
        super().__init__(f"available {available} is less than the amount {amount}")
        self.available = available
        self.amount = amount


class BalanceLimitExceeded(WalletError):
    def __init__(self, balance: int, amount: int) -> None:
        super().__init__(f"a top-up of {amount} would take the balance {balance} past the limit {MAX_BALANCE}")
        self.balance = balance
        self.amount = amount


class ReservationConflict(WalletError):
    """The payment id is already reserved with other details."""


class TopUpConflict(WalletError):
    """The top-up id was already used with another amount."""
