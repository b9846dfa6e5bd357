"""Wallet rules. `available` is derived (balance - reserved), never stored.

Money moves in four ways, each a ledger entry:
- TOP_UP: balance += amount
- RESERVE (a payment starts): reserved += amount, only if available >= amount
- PAYOUT (the payment completed): balance -= amount, reserved -= amount
- RELEASE (the payment failed): reserved -= amount
so balance = available + reserved always, and neither balance nor available goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

MAX_AMOUNT = 10**15  # minor units: a sanity bound far above any real payout or top-up


class ReservationStatus(StrEnum):
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


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


@dataclass(frozen=True, slots=True)
class Reservation:
    payment_id: UUID
    wallet_id: UUID
    amount: int
    currency: str
    recipient: dict[str, Any]
    status: ReservationStatus
    created_at: datetime

    def same_request(self, amount: int, currency: str, recipient: dict[str, Any]) -> bool:
        return (self.amount, self.currency, self.recipient) == (amount, currency, recipient)


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


class ReservationConflict(WalletError):
    """The payment id is already reserved with other details."""


class TopUpConflict(WalletError):
    """The top-up id was already used with another amount."""
