"""Double-entry rules of the Core Banking ledger (pure: no I/O).

Every journal line carries a positive amount in minor units, a currency and a side; an entry balances when, in
each of its currencies, debits equal credits. Balances are shown in the account's natural sign, so a negative
one sits on the "wrong" side. One chart of accounts serves every currency. A top-up credits Customer funds
(2100) and a completed payout debits it, so its balance in a currency mirrors the sum of the wallets' balances
in it (reserved money included: a reservation moves nothing until the payment completes). Entries are
immutable: a REVERSAL mirrors an entry, at most once, and is not itself reversed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_AMOUNT = 10**15  # minor units: a sanity bound far above any real payout
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


class Side(StrEnum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"

    @property
    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class AccountType(StrEnum):
    ASSET = "ASSET"
    LIABILITY = "LIABILITY"
    EQUITY = "EQUITY"
    INCOME = "INCOME"
    EXPENSE = "EXPENSE"

    @property
    def normal_side(self) -> Side:
        return Side.DEBIT if self in (AccountType.ASSET, AccountType.EXPENSE) else Side.CREDIT


class EntryKind(StrEnum):
    TOP_UP = "TOP_UP"
    PAYOUT = "PAYOUT"
    REVERSAL = "REVERSAL"


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    name: str
    type: AccountType
    description: str = ""


PROVIDER_SETTLEMENT = Account(
    "1100", "Provider settlement", AccountType.ASSET, "Our prefunded balance at the payout provider"
)
ACQUIRER_SETTLEMENT = Account(
    "1200",
    "Acquirer settlement",
    AccountType.ASSET,
    "Card top-ups the card acquirer owes us until it pays them into our bank account",
)
SUSPENSE = Account(
    "1900", "Suspense", AccountType.ASSET, "Items awaiting a manual correction; no automatic rule posts here"
)
CUSTOMER_FUNDS = Account("2100", "Customer funds", AccountType.LIABILITY, "What we owe the wallet holders")
CHART_OF_ACCOUNTS: tuple[Account, ...] = (PROVIDER_SETTLEMENT, ACQUIRER_SETTLEMENT, SUSPENSE, CUSTOMER_FUNDS)


@dataclass(frozen=True, slots=True)
class Line:
    account_code: str
    currency: str
    side: Side
    amount: int

    def mirrored(self) -> Line:
        return Line(self.account_code, self.currency, self.side.opposite, self.amount)


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry to post; `post()` in the repository gives it its id."""

    kind: EntryKind
    lines: tuple[Line, ...]
    description: str
    effective_at: datetime
    payment_id: str | None = None
    provider_txn_id: str | None = None
    source_event_id: str | None = None
    reverses_entry_id: int | None = None
    top_up_id: str | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    entry_id: int
    kind: EntryKind
    lines: tuple[Line, ...]
    description: str
    effective_at: datetime
    posted_at: datetime
    payment_id: str | None = None
    provider_txn_id: str | None = None
    source_event_id: str | None = None
    reverses_entry_id: int | None = None
    reversed_by_entry_id: int | None = None
    top_up_id: str | None = None


class LedgerError(Exception):
    """A posting the ledger refuses; nothing was written."""


class InvalidEntry(LedgerError):
    pass


class UnbalancedEntry(InvalidEntry):
    pass


class EntryNotFound(LedgerError):
    pass


class AlreadyReversed(LedgerError):
    def __init__(self, entry_id: int, reversal_entry_id: int) -> None:
        super().__init__(f"entry {entry_id} was already reversed by entry {reversal_entry_id}")
        self.entry_id = entry_id
        self.reversal_entry_id = reversal_entry_id


class NotReversible(LedgerError):
    """A reversal is not reversed (that would re-post the original); post a new entry instead."""


class PaymentConflict(LedgerError):
    """A PaymentInitiated for a known payment id with another amount or currency: a contract breach."""


class TopUpConflict(LedgerError):
    """A WalletToppedUp for a journaled top-up id with another amount or currency: a contract breach."""


def totals(lines: Iterable[Line]) -> dict[str, tuple[int, int]]:
    """currency → (sum of debits, sum of credits)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        sums[line.currency][0 if line.side is Side.DEBIT else 1] += line.amount
    return {currency: (d, c) for currency, (d, c) in sums.items()}


def check_entry(lines: Sequence[Line]) -> None:
    """Raise InvalidEntry unless the lines make a valid, balanced entry."""
    if len(lines) < 2:
        raise InvalidEntry("an entry has at least two lines")
    for line in lines:
        if not 0 < line.amount <= MAX_AMOUNT:
            raise InvalidEntry(f"line amount {line.amount} is not within 1..{MAX_AMOUNT}")
        if not CURRENCY_PATTERN.match(line.currency):
            raise InvalidEntry(f"{line.currency!r} is not an ISO 4217 code")
    for currency, (debits, credits) in totals(lines).items():
        if debits != credits:
            raise UnbalancedEntry(f"unbalanced in {currency}: debits {debits}, credits {credits}")


def top_up_entry(
    *,
    top_up_id: str,
    wallet_id: str,
    amount: int,
    currency: str,
    topped_up_at: datetime,
    source_event_id: str | None = None,
) -> EntryDraft:
    """WalletToppedUp → Dr Acquirer settlement, Cr Customer funds: the card money is owed to us by the
    acquirer, and we owe it to the wallet holder."""
    lines = (
        Line(ACQUIRER_SETTLEMENT.code, currency, Side.DEBIT, amount),
        Line(CUSTOMER_FUNDS.code, currency, Side.CREDIT, amount),
    )
    check_entry(lines)
    return EntryDraft(
        kind=EntryKind.TOP_UP,
        lines=lines,
        description=f"Top-up {top_up_id} of wallet {wallet_id}",
        effective_at=topped_up_at,
        top_up_id=top_up_id,
        source_event_id=source_event_id,
    )


def payout_entry(
    *,
    payment_id: str,
    amount: int,
    currency: str,
    provider_txn_id: str,
    completed_at: datetime,
    source_event_id: str | None = None,
) -> EntryDraft:
    """PaymentCompleted → Dr Customer funds, Cr Provider settlement, for the payment's amount."""
    lines = (
        Line(CUSTOMER_FUNDS.code, currency, Side.DEBIT, amount),
        Line(PROVIDER_SETTLEMENT.code, currency, Side.CREDIT, amount),
    )
    check_entry(lines)
    return EntryDraft(
        kind=EntryKind.PAYOUT,
        lines=lines,
        description=f"Payout of payment {payment_id} (provider txn {provider_txn_id})",
        effective_at=completed_at,
        payment_id=payment_id,
        provider_txn_id=provider_txn_id,
        source_event_id=source_event_id,
    )


def reversal_entry(original: JournalEntry, *, reason: str, at: datetime) -> EntryDraft:
    """The mirror of `original`: together they leave every account as if neither was posted."""
    if original.kind is EntryKind.REVERSAL:
        raise NotReversible(f"entry {original.entry_id} is a reversal; post a new entry instead")
    if original.reversed_by_entry_id is not None:
        raise AlreadyReversed(original.entry_id, original.reversed_by_entry_id)
    reason = reason.strip()
    if not reason:
        raise InvalidEntry("a reversal needs a reason")
    lines = tuple(line.mirrored() for line in original.lines)
    check_entry(lines)
    return EntryDraft(
        kind=EntryKind.REVERSAL,
        lines=lines,
        description=f"Reversal of entry {original.entry_id}: {reason}",
        effective_at=at,
        payment_id=original.payment_id,
        provider_txn_id=original.provider_txn_id,
        reverses_entry_id=original.entry_id,
        top_up_id=original.top_up_id,
    )


def natural_balance(account_type: AccountType, debits: int, credits: int) -> int:
    return debits - credits if account_type.normal_side is Side.DEBIT else credits - debits


@dataclass(frozen=True, slots=True)
class AccountTotals:
    account: Account
    debits: int
    credits: int

    @property
    def balance(self) -> int:
        return natural_balance(self.account.type, self.debits, self.credits)


@dataclass(frozen=True, slots=True)
class CurrencyTrialBalance:
    currency: str
    accounts: tuple[AccountTotals, ...]

    @property
    def debits(self) -> int:
        return sum(a.debits for a in self.accounts)

    @property
    def credits(self) -> int:
        return sum(a.credits for a in self.accounts)

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits


def trial_balance(rows: Iterable[tuple[str, Account, int, int]]) -> list[CurrencyTrialBalance]:
    """(currency, account, debits, credits) rows → one trial balance per currency, by currency and code."""
    by_currency: dict[str, dict[str, AccountTotals]] = defaultdict(dict)
    for currency, account, debits, credits in rows:
        seen = by_currency[currency].get(account.code)
        before = (seen.debits, seen.credits) if seen is not None else (0, 0)
        by_currency[currency][account.code] = AccountTotals(account, before[0] + debits, before[1] + credits)
    return [
        CurrencyTrialBalance(currency, tuple(accounts[code] for code in sorted(accounts)))
        for currency, accounts in sorted(by_currency.items())
    ]
