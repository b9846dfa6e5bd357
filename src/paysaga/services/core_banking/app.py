"""Core Banking HTTP API (internal, for finance and ops): accounts and their balances, trial balance, journal,
reversals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, Path, Query, Response, status

from paysaga.contracts.identities import OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.contracts.values import MAX_BIGINT
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem, not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.core_banking import handlers, history, repository
from paysaga.services.core_banking.domain import (
    CURRENCY_PATTERN,
    AlreadyReversed,
    EntryNotFound,
    InvalidEntry,
    JournalEntry,
    LedgerError,
    NotReversible,
    natural_balance,
    trial_balance,
)
from paysaga.services.core_banking.schemas import (
    AccountBalancesView,
    AccountsView,
    AccountTotalsView,
    AccountView,
    CurrencyBalanceView,
    CurrencyTrialBalanceView,
    EntryView,
    JournalView,
    LineView,
    ReversalRequest,
    TrialBalanceView,
    UnpostedCompletionsView,
    UnpostedCompletionView,
)

EntryId = Annotated[int, Path(alias="entryId", ge=1, le=MAX_BIGINT, description="Journal entry id")]
AccountCode = Annotated[str, Path(pattern=r"^[0-9]{4}$", description="Account code, e.g. 2100 (Customer funds)")]

OPERATORS = callers(OPS)


def entry_view(e: JournalEntry) -> EntryView:
    return EntryView(
        entry_id=e.entry_id,
        kind=e.kind.value,
        payment_id=e.payment_id,
        top_up_id=e.top_up_id,
        provider_txn_id=e.provider_txn_id,
        description=e.description,
        effective_at=e.effective_at,
        posted_at=e.posted_at,
        source_event_id=e.source_event_id,
        reverses_entry_id=e.reverses_entry_id,
        reversed_by_entry_id=e.reversed_by_entry_id,
        lines=[
            LineView(account_code=x.account_code, currency=x.currency, side=x.side.value, amount=x.amount)
            for x in e.lines
        ],
    )


def _problem(exc: LedgerError) -> Problem:
    match exc:
        case EntryNotFound():
            return not_found(str(exc))
        case AlreadyReversed():
            return Problem(409, "already-reversed", "Already reversed", str(exc), reversalEntryId=exc.reversal_entry_id)
        case NotReversible():
            return Problem(409, "not-reversible", "Not reversible", str(exc))
        case InvalidEntry():
            return Problem(422, "invalid-entry", "Invalid entry", str(exc))
    return Problem(422, "ledger-error", "Refused", str(exc))


def build_app(db: Database, new_uow: Callable[[], UnitOfWork], readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga Core Banking",
        description=(
            "The double-entry accounting ledger. Every wallet top-up is one balanced entry (Dr 1200 Acquirer "
            "settlement / Cr 2100 Customer funds), every completed payout another (Dr 2100 Customer funds / "
            "Cr 1100 Provider settlement), so Customer funds mirror the wallets. Entries are immutable; "
            "corrections are reversing entries. Amounts are integers in minor units."
        ),
        readiness=readiness,
    )

    @app.get(
        "/v1/accounts",
        response_model=AccountsView,
        tags=["accounts"],
        summary="The chart of accounts",
        dependencies=[OPERATORS],
    )
    async def get_accounts() -> AccountsView:
        async with db.connection() as conn:
            accounts = await repository.list_accounts(conn)
        return AccountsView(
            items=[
                AccountView(
                    code=a.code,
                    name=a.name,
                    type=a.type.value,
                    normal_side=a.type.normal_side.value,
                    description=a.description,
                )
                for a in accounts
            ]
        )

    @app.get(
        "/v1/accounts/{code}/balances",
        response_model=AccountBalancesView,
        dependencies=[OPERATORS],
        tags=["accounts"],
        summary="One account's debits, credits and balance per currency (e.g. 2100 Customer funds)",
        description="One aggregate statement. For reconciliation: the balance of 2100 Customer funds in a "
        "currency equals the sum of the wallets' balances in it (Wallet's `GET /v1/balances`) once the "
        "events in flight are applied.",
        responses=problems((404, "not-found")),
    )
    async def get_account_balances(code: AccountCode) -> AccountBalancesView:
        async with db.connection() as conn:
            account = await repository.find_account(conn, code)
            if account is None:
                raise not_found(f"no account {code}")
            totals = await repository.account_currency_totals(conn, code)
        return AccountBalancesView(
            code=account.code,
            name=account.name,
            type=account.type.value,
            currencies=[
                CurrencyBalanceView(
                    currency=currency,
                    debits=debits,
                    credits=credits,
                    balance=natural_balance(account.type, debits, credits),
                )
                for currency, debits, credits in totals
            ],
        )

    @app.get(
        "/v1/trial-balance",
        dependencies=[OPERATORS],
        response_model=TrialBalanceView,
        tags=["ledger"],
        summary="Debit and credit totals per account and currency; balanced when they are equal",
    )
    async def get_trial_balance(
        currency: Annotated[str | None, Query(pattern=CURRENCY_PATTERN.pattern, description="Only this one")] = None,
    ) -> TrialBalanceView:
        async with db.connection() as conn:
            rows = await repository.account_totals(conn)
        per_currency = [tb for tb in trial_balance(rows) if currency is None or tb.currency == currency]
        return TrialBalanceView(
            currencies=[
                CurrencyTrialBalanceView(
                    currency=tb.currency,
                    accounts=[
                        AccountTotalsView(
                            code=t.account.code,
                            name=t.account.name,
                            type=t.account.type.value,
                            debits=t.debits,
                            credits=t.credits,
                            balance=t.balance,
                        )
                        for t in tb.accounts
                    ],
                    total_debits=tb.debits,
                    total_credits=tb.credits,
                    balanced=tb.balanced,
                )
                for tb in per_currency
            ],
            balanced=all(tb.balanced for tb in per_currency),
        )

    @app.get(
        "/v1/journal",
        dependencies=[OPERATORS],
        response_model=JournalView,
        tags=["ledger"],
        summary="Journal entries: those of one payment or top-up (oldest first), or all of them newest first, paged",
    )
    async def get_journal(
        payment_id: Annotated[str | None, Query(alias="paymentId", max_length=200)] = None,
        top_up_id: Annotated[str | None, Query(alias="topUpId", max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,19}$")] = None,
    ) -> JournalView:
        async with db.connection() as conn:
            if payment_id is not None:
                return JournalView(items=[entry_view(e) for e in await repository.entries_of_payment(conn, payment_id)])
            if top_up_id is not None:
                return JournalView(items=[entry_view(e) for e in await repository.entries_of_top_up(conn, top_up_id)])
            entries = await repository.latest_entries(conn, limit=limit, before=int(cursor) if cursor else None)
        next_cursor = str(entries[-1].entry_id) if len(entries) == limit else None
        return JournalView(items=[entry_view(e) for e in entries], next_cursor=next_cursor)

    @app.get(
        "/v1/journal/{entryId}",
        response_model=EntryView,
        tags=["ledger"],
        summary="One journal entry",
        dependencies=[OPERATORS],
        responses=problems((404, "not-found")),
    )
    async def get_entry(entry_id: EntryId) -> EntryView:
        async with db.connection() as conn:
            entry = await repository.find_entry(conn, entry_id)
        if entry is None:
            raise not_found(f"no journal entry {entry_id}")
        return entry_view(entry)

    @app.post(
        "/v1/journal/{entryId}/reversal",
        dependencies=[OPERATORS],
        status_code=status.HTTP_201_CREATED,
        response_model=EntryView,
        tags=["ledger"],
        summary="Correct an entry by posting its mirror; 409 if it was already reversed or is a reversal",
        responses=problems(
            (404, "not-found"), (409, "already-reversed"), (409, "not-reversible"), (422, "invalid-entry")
        ),
    )
    async def reverse(entry_id: EntryId, body: ReversalRequest, response: Response) -> EntryView:
        try:
            reversal = await handlers.reverse_entry(entry_id, body.reason, new_uow())
        except LedgerError as exc:
            raise _problem(exc) from exc
        response.headers["Location"] = f"/v1/journal/{reversal.entry_id}"
        return entry_view(reversal)

    @app.get(
        "/v1/unposted-completions",
        dependencies=[OPERATORS],
        response_model=UnpostedCompletionsView,
        tags=["ledger"],
        summary="PaymentCompleted events waiting for their PaymentInitiated (the amount), oldest first",
    )
    async def get_unposted(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> UnpostedCompletionsView:
        async with db.connection() as conn:
            waiting = await repository.list_unposted_completions(conn, limit)
        return UnpostedCompletionsView(
            items=[
                UnpostedCompletionView(
                    payment_id=w.payment_id,
                    provider_txn_id=w.provider_txn_id,
                    completed_at=w.completed_at,
                    source_event_id=w.source_event_id,
                    received_at=w.received_at,
                )
                for w in waiting
            ]
        )

    @app.get(
        "/v1/payments/{paymentId}/history",
        dependencies=[OPERATORS],
        response_model=PaymentSteps,
        tags=["ledger"],
        summary="A payment in the ledger as steps: its amount learned, its journal entries, or a completion waiting",
    )
    async def get_payment_history(payment_id: Annotated[str, Path(alias="paymentId", max_length=200)]) -> PaymentSteps:
        async with db.connection() as conn:
            known = await repository.known_payment_row(conn, payment_id)
            entries = await repository.entries_of_payment(conn, payment_id)
            waiting = await repository.unposted_completion(conn, payment_id)
        return history.payment_steps(payment_id, known, entries, waiting)

    return app
