"""Posting rules of the Core Banking ledger: top-ups, payouts, reversals, balance checks, trial balance."""

from __future__ import annotations

import importlib.util
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.contracts.events import PaymentCompleted, PaymentInitiated, WalletToppedUp
from paysaga.services import core_banking
from paysaga.services.core_banking import handlers
from paysaga.services.core_banking.consumers import HANDLERS
from paysaga.services.core_banking.domain import (
    ACQUIRER_SETTLEMENT,
    CHART_OF_ACCOUNTS,
    CUSTOMER_FUNDS,
    MAX_AMOUNT,
    PROVIDER_SETTLEMENT,
    SUSPENSE,
    Account,
    AccountType,
    AlreadyReversed,
    EntryKind,
    InvalidEntry,
    JournalEntry,
    Line,
    NotReversible,
    Side,
    UnbalancedEntry,
    check_entry,
    natural_balance,
    payout_entry,
    reversal_entry,
    top_up_entry,
    totals,
    trial_balance,
)
from paysaga.services.core_banking.settings import CoreBankingSettings

pytestmark = pytest.mark.unit

AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CURRENCIES = st.sampled_from(["RUB", "USD", "EUR", "KZT"])
AMOUNTS = st.integers(min_value=1, max_value=MAX_AMOUNT)
ACCOUNTS = {a.code: a for a in CHART_OF_ACCOUNTS}


def payout(amount: int = 12_345, currency: str = "RUB", payment_id: str = "p-1"):
    return payout_entry(
        payment_id=payment_id, amount=amount, currency=currency, provider_txn_id="txn-1", completed_at=AT
    )


def top_up(amount: int = 50_000, currency: str = "RUB", top_up_id: str = "t-1"):
    return top_up_entry(top_up_id=top_up_id, wallet_id="w-1", amount=amount, currency=currency, topped_up_at=AT)


def posted(draft, entry_id: int = 1, reversed_by: int | None = None) -> JournalEntry:
    return JournalEntry(
        entry_id=entry_id,
        kind=draft.kind,
        lines=draft.lines,
        description=draft.description,
        effective_at=draft.effective_at,
        posted_at=AT,
        payment_id=draft.payment_id,
        provider_txn_id=draft.provider_txn_id,
        reverses_entry_id=draft.reverses_entry_id,
        reversed_by_entry_id=reversed_by,
        top_up_id=draft.top_up_id,
    )


def movement(lines, code: str, currency: str) -> tuple[int, int]:
    d = sum(x.amount for x in lines if x.account_code == code and x.currency == currency and x.side is Side.DEBIT)
    c = sum(x.amount for x in lines if x.account_code == code and x.currency == currency and x.side is Side.CREDIT)
    return d, c


# --- the top-up rule ----------------------------------------------------------------------------


def test_a_top_up_debits_acquirer_settlement_and_credits_customer_funds() -> None:
    draft = top_up(50_000, "USD", "top-7")
    assert draft.kind is EntryKind.TOP_UP
    assert (draft.top_up_id, draft.payment_id, draft.effective_at) == ("top-7", None, AT)
    assert draft.lines == (
        Line("1200", "USD", Side.DEBIT, 50_000),
        Line("2100", "USD", Side.CREDIT, 50_000),
    )


def test_the_top_up_raises_both_accounts_in_their_natural_sign() -> None:
    """We owe the wallet holder more (liability up), and the acquirer owes us the card money (asset up)."""
    draft = top_up(700)
    d, c = movement(draft.lines, CUSTOMER_FUNDS.code, "RUB")
    assert natural_balance(CUSTOMER_FUNDS.type, d, c) == 700
    d, c = movement(draft.lines, ACQUIRER_SETTLEMENT.code, "RUB")
    assert natural_balance(ACQUIRER_SETTLEMENT.type, d, c) == 700


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT + 1])
def test_a_top_up_of_an_impossible_amount_is_refused(amount: int) -> None:
    with pytest.raises(InvalidEntry):
        top_up(amount)


def test_a_reversed_top_up_keeps_its_top_up_id() -> None:
    reversal = reversal_entry(posted(top_up(300, top_up_id="top-9"), entry_id=4), reason="card chargeback", at=AT)
    assert (reversal.kind, reversal.top_up_id, reversal.reverses_entry_id) == (EntryKind.REVERSAL, "top-9", 4)
    assert reversal.lines == (
        Line("1200", "RUB", Side.CREDIT, 300),
        Line("2100", "RUB", Side.DEBIT, 300),
    )


# --- the payout rule ----------------------------------------------------------------------------


def test_a_payout_debits_customer_funds_and_credits_provider_settlement() -> None:
    draft = payout(12_345, "RUB", "pay-42")
    assert draft.kind is EntryKind.PAYOUT
    assert draft.payment_id == "pay-42"
    assert draft.effective_at == AT
    assert draft.lines == (
        Line("2100", "RUB", Side.DEBIT, 12_345),
        Line("1100", "RUB", Side.CREDIT, 12_345),
    )


@given(amount=AMOUNTS, currency=CURRENCIES)
def test_every_payout_is_balanced_in_its_currency(amount: int, currency: str) -> None:
    draft = payout(amount, currency)
    assert totals(draft.lines) == {currency: (amount, amount)}
    check_entry(draft.lines)  # does not raise


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT + 1])
def test_a_payout_of_an_impossible_amount_is_refused(amount: int) -> None:
    with pytest.raises(InvalidEntry):
        payout(amount)


def test_the_payout_lowers_both_accounts_in_their_natural_sign() -> None:
    """Customer funds is a liability (credit-normal), provider settlement an asset (debit-normal): both fall."""
    draft = payout(500)
    d, c = movement(draft.lines, CUSTOMER_FUNDS.code, "RUB")
    assert natural_balance(CUSTOMER_FUNDS.type, d, c) == -500
    d, c = movement(draft.lines, PROVIDER_SETTLEMENT.code, "RUB")
    assert natural_balance(PROVIDER_SETTLEMENT.type, d, c) == -500


# --- balance checks -----------------------------------------------------------------------------


def test_an_unbalanced_entry_is_refused() -> None:
    with pytest.raises(UnbalancedEntry, match="debits 100, credits 90"):
        check_entry([Line("2100", "RUB", Side.DEBIT, 100), Line("1100", "RUB", Side.CREDIT, 90)])


def test_balance_is_per_currency_not_across_currencies() -> None:
    lines = [Line("2100", "RUB", Side.DEBIT, 100), Line("1100", "USD", Side.CREDIT, 100)]
    with pytest.raises(UnbalancedEntry):
        check_entry(lines)


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [Line("2100", "RUB", Side.DEBIT, 100)],
        [Line("2100", "RUB", Side.DEBIT, 0), Line("1100", "RUB", Side.CREDIT, 0)],
        [Line("2100", "rub", Side.DEBIT, 1), Line("1100", "rub", Side.CREDIT, 1)],
    ],
)
def test_degenerate_entries_are_refused(lines: list[Line]) -> None:
    with pytest.raises(InvalidEntry):
        check_entry(lines)


@given(
    st.lists(
        st.tuples(st.sampled_from(["1100", "1900", "2100"]), CURRENCIES, st.sampled_from(Side), AMOUNTS),
        min_size=2,
        max_size=8,
    )
)
def test_check_entry_accepts_exactly_the_entries_balanced_in_every_currency(raw) -> None:
    lines = [Line(*x) for x in raw]
    sums: Counter[str] = Counter()
    for x in lines:
        sums[x.currency] += x.amount if x.side is Side.DEBIT else -x.amount
    balanced = all(v == 0 for v in sums.values())
    if balanced:
        check_entry(lines)
    else:
        with pytest.raises(UnbalancedEntry):
            check_entry(lines)


# --- reversals ----------------------------------------------------------------------------------


@given(amount=AMOUNTS, currency=CURRENCIES)
def test_a_reversal_mirrors_the_entry_and_together_they_net_to_zero(amount: int, currency: str) -> None:
    original = posted(payout(amount, currency), entry_id=7)
    draft = reversal_entry(original, reason="duplicate payout", at=AT)
    assert draft.kind is EntryKind.REVERSAL
    assert draft.reverses_entry_id == 7
    assert draft.payment_id == original.payment_id
    assert "duplicate payout" in draft.description
    check_entry(draft.lines)
    both = [*original.lines, *draft.lines]
    for account in CHART_OF_ACCOUNTS:
        d, c = movement(both, account.code, currency)
        assert d == c


def test_an_entry_is_reversed_once() -> None:
    original = posted(payout(), entry_id=7, reversed_by=8)
    with pytest.raises(AlreadyReversed) as err:
        reversal_entry(original, reason="again", at=AT)
    assert err.value.reversal_entry_id == 8


def test_a_reversal_is_not_reversed() -> None:
    reversal = posted(reversal_entry(posted(payout(), entry_id=7), reason="wrong", at=AT), entry_id=8)
    with pytest.raises(NotReversible):
        reversal_entry(reversal, reason="undo the undo", at=AT)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reversal_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidEntry):
        reversal_entry(posted(payout()), reason=reason, at=AT)


# --- trial balance ------------------------------------------------------------------------------

payouts = st.lists(st.tuples(AMOUNTS, CURRENCIES, st.booleans()), max_size=30)


@given(payouts)
def test_the_trial_balance_of_any_run_of_payouts_and_reversals_is_balanced(run) -> None:
    lines: list[Line] = []
    for n, (amount, currency, reversed_) in enumerate(run):
        entry = posted(payout(amount, currency, f"p-{n}"), entry_id=n + 1)
        lines += entry.lines
        if reversed_:
            lines += reversal_entry(entry, reason="test", at=AT).lines
    rows = [
        (x.currency, ACCOUNTS[x.account_code], *((x.amount, 0) if x.side is Side.DEBIT else (0, x.amount)))
        for x in lines
    ]
    tb = trial_balance(rows)
    assert all(c.balanced for c in tb)
    for c in tb:
        kept = sum(a for a, cur, rev in run if cur == c.currency and not rev)
        funds = next(t for t in c.accounts if t.account.code == CUSTOMER_FUNDS.code)
        assert funds.balance == -kept  # the customer-funds movement is the sum of the payouts that stand
    assert [c.currency for c in tb] == sorted({cur for _, cur, _ in run})


movements = st.lists(st.tuples(st.sampled_from(["top-up", "payout"]), AMOUNTS, CURRENCIES, st.booleans()), max_size=30)


@given(movements)
def test_customer_funds_are_the_top_ups_less_the_payouts_that_stand(run) -> None:
    """What the wallets hold in a currency (all top-ups less the completed payouts) is what 2100 shows;
    the two asset accounts together hold the same."""
    lines: list[Line] = []
    for n, (kind, amount, currency, reversed_) in enumerate(run):
        draft = top_up(amount, currency, f"t-{n}") if kind == "top-up" else payout(amount, currency, f"p-{n}")
        entry = posted(draft, entry_id=n + 1)
        lines += entry.lines
        if reversed_:
            lines += reversal_entry(entry, reason="test", at=AT).lines
    rows = [
        (x.currency, ACCOUNTS[x.account_code], *((x.amount, 0) if x.side is Side.DEBIT else (0, x.amount)))
        for x in lines
    ]
    for c in trial_balance(rows):
        assert c.balanced
        kept = sum((a if k == "top-up" else -a) for k, a, cur, rev in run if cur == c.currency and not rev)
        balances = {t.account.code: t.balance for t in c.accounts}
        assert balances.get(CUSTOMER_FUNDS.code, 0) == kept
        assert balances.get(ACQUIRER_SETTLEMENT.code, 0) + balances.get(PROVIDER_SETTLEMENT.code, 0) == kept


def test_a_trial_balance_shows_an_imbalance() -> None:
    rows = [("RUB", CUSTOMER_FUNDS, 100, 0), ("RUB", PROVIDER_SETTLEMENT, 0, 90), ("USD", SUSPENSE, 5, 5)]
    rub, usd = trial_balance(rows)
    assert (rub.currency, rub.debits, rub.credits, rub.balanced) == ("RUB", 100, 90, False)
    assert [t.account.code for t in rub.accounts] == ["1100", "2100"]
    assert usd.balanced


def test_rows_of_one_account_and_currency_are_added_up() -> None:
    (rub,) = trial_balance([("RUB", SUSPENSE, 10, 0), ("RUB", SUSPENSE, 0, 4)])
    (only,) = rub.accounts
    assert (only.debits, only.credits, only.balance) == (10, 4, 6)


@pytest.mark.parametrize(
    ("account_type", "expected"),
    [
        (AccountType.ASSET, 70),
        (AccountType.EXPENSE, 70),
        (AccountType.LIABILITY, -70),
        (AccountType.EQUITY, -70),
        (AccountType.INCOME, -70),
    ],
)
def test_natural_balance_follows_the_normal_side(account_type: AccountType, expected: int) -> None:
    assert natural_balance(account_type, 100, 30) == expected


# --- wiring -------------------------------------------------------------------------------------


def test_the_migrations_seed_the_chart_of_accounts_of_the_domain() -> None:
    seeded = set()
    for name in ("0001_ledger", "0002_top_ups"):
        path = Path(core_banking.__file__).parent / "migrations" / "versions" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"core_banking_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        seeded |= {(code, name, t, side, desc) for code, name, t, side, desc in module.ACCOUNTS}
    expected = {(a.code, a.name, a.type.value, a.type.normal_side.value, a.description) for a in CHART_OF_ACCOUNTS}
    assert seeded == expected
    assert isinstance(CUSTOMER_FUNDS, Account) and CUSTOMER_FUNDS.type is AccountType.LIABILITY
    assert PROVIDER_SETTLEMENT.type is AccountType.ASSET


def test_the_consumer_reads_top_ups_and_payment_initiated_and_completed_only() -> None:
    """PaymentFailed moves no money in the ledger: the reserved money stays in the wallet."""
    assert dict(HANDLERS) == {
        WalletToppedUp: handlers.post_top_up,
        PaymentInitiated: handlers.record_payment,
        PaymentCompleted: handlers.post_payout,
    }


def test_settings_defaults_and_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = CoreBankingSettings()
    assert (defaults.port, defaults.consumer_group) == (8009, "core-banking")
    monkeypatch.setenv("CORE_BANKING_PORT", "18009")
    monkeypatch.setenv("CORE_BANKING_CONSUMER_GROUP", "cb-2")
    monkeypatch.setenv("CORE_BANKING_DATABASE_URL", "postgresql://x@h/db")
    s = CoreBankingSettings()
    assert (s.port, s.consumer_group, s.database_url) == (18009, "cb-2", "postgresql://x@h/db")
