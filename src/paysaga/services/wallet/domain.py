"""Wallet rules. `available` is derived: balance - reserved, never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


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
