"""Wallet HTTP API (internal: the BFF calls it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import FastAPI, Query, Response, status

from paysaga.contracts.identities import BFF, OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.contracts.values import MAX_STUCK_AGE_SECONDS, IsoDateTime
from paysaga.platform.cursors import CURSOR_DESCRIPTION, CURSOR_PATTERN, decode_cursor, encode_cursor
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem, not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.wallet import handlers, history, repository
from paysaga.services.wallet.domain import (
    MAX_BALANCE,
    BalanceLimitExceeded,
    CurrencyMismatch,
    InsufficientFunds,
    ReservationConflict,
    TopUpConflict,
    WalletError,
    WalletNotFound,
)
from paysaga.services.wallet.schemas import (
    BalancesView,
    CurrencyTotalsView,
    HeldReservations,
    HeldReservationView,
    LedgerEntry,
    ReservationRequest,
    ReservationView,
    SettlementPage,
    SettlementView,
    TopUpRequest,
    TopUpView,
    WalletView,
)


def _problem(exc: WalletError) -> Problem:
    match exc:
        case WalletNotFound():
            return Problem(404, "wallet-not-found", "Wallet not found", str(exc))
        case InsufficientFunds():
            return Problem(422, "insufficient-funds", "Insufficient funds", str(exc), available=exc.available)
        case CurrencyMismatch():
            return Problem(422, "currency-mismatch", "Currency mismatch", str(exc))
        case BalanceLimitExceeded():
            return Problem(422, "balance-limit-exceeded", "Balance limit exceeded", str(exc), limit=MAX_BALANCE)
        case ReservationConflict() | TopUpConflict():
            return Problem(409, "idempotency-conflict", "Conflicting repeat", str(exc))
    return Problem(422, "wallet-error", "Refused", str(exc))


def build_app(db: Database, new_uow: Callable[[], UnitOfWork], readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga Wallet",
        description="Wallets, balances and reservations. Consumes customer-events and payment-events; "
        "publishes PaymentInitiated (payment-events) and WalletToppedUp (wallet-events).",
        readiness=readiness,
    )

    @app.get(
        "/v1/users/{user_id}/wallet",
        response_model=WalletView,
        dependencies=[callers(BFF, OPS)],
        responses=problems((404, "not-found")),
    )
    async def get_wallet(user_id: UUID) -> WalletView:
        async with db.connection() as conn:
            wallet = await repository.find_by_user(conn, user_id)
        if wallet is None:
            raise not_found(f"user {user_id} has no wallet (yet)")
        return WalletView(
            wallet_id=str(wallet.wallet_id),
            user_id=str(wallet.user_id),
            currency=wallet.currency,
            balance=wallet.balance,
            reserved=wallet.reserved,
            available=wallet.available,
        )

    @app.post(
        "/v1/users/{user_id}/top-ups",
        status_code=status.HTTP_201_CREATED,
        response_model=TopUpView,
        dependencies=[callers(BFF)],
        responses=problems((404, "wallet-not-found"), (409, "idempotency-conflict"), (422, "balance-limit-exceeded")),
    )
    async def top_up(user_id: UUID, body: TopUpRequest) -> TopUpView:
        cmd = handlers.TopUp(top_up_id=UUID(body.top_up_id), user_id=user_id, amount=body.amount)
        try:
            wallet = await handlers.top_up(cmd, new_uow())
        except WalletError as exc:
            raise _problem(exc) from exc
        return TopUpView(top_up_id=body.top_up_id, balance=wallet.balance, available=wallet.available)

    @app.post(
        "/v1/users/{user_id}/reservations",
        status_code=status.HTTP_201_CREATED,
        response_model=ReservationView,
        dependencies=[callers(BFF)],
        summary="Reserve funds for a payment and publish PaymentInitiated (idempotent on paymentId)",
        responses={
            **problems(
                (404, "wallet-not-found"),
                (409, "idempotency-conflict"),
                (422, "insufficient-funds"),
                (422, "currency-mismatch"),
            ),
            200: {"description": "Reserved before (a repeat)", "model": ReservationView},
        },
    )
    async def reserve(user_id: UUID, body: ReservationRequest, response: Response) -> ReservationView:
        cmd = handlers.ReserveFunds(
            payment_id=UUID(body.payment_id),
            user_id=user_id,
            amount=body.amount,
            currency=body.currency,
            recipient=body.recipient.model_dump(by_alias=True),
        )
        try:
            reservation, created = await handlers.reserve_funds(cmd, new_uow())
        except WalletError as exc:
            raise _problem(exc) from exc
        if not created:
            response.status_code = status.HTTP_200_OK
        return ReservationView(
            payment_id=str(reservation.payment_id),
            wallet_id=str(reservation.wallet_id),
            status=reservation.status.value,
            amount=reservation.amount,
            currency=reservation.currency,
            created_at=reservation.created_at,
        )

    @app.get(
        "/v1/users/{user_id}/wallet/ledger",
        response_model=list[LedgerEntry],
        dependencies=[callers(BFF, OPS)],
        responses=problems((404, "not-found")),
    )
    async def get_ledger(user_id: UUID, limit: int = 100) -> list[LedgerEntry]:
        async with db.connection() as conn:
            wallet = await repository.find_by_user(conn, user_id)
            if wallet is None:
                raise not_found(f"user {user_id} has no wallet (yet)")
            rows = await repository.ledger(conn, wallet.wallet_id, min(max(limit, 1), 1000))
        return [LedgerEntry.model_validate({**r, "reference": str(r["reference"])}) for r in rows]

    @app.get(
        "/v1/balances",
        response_model=BalancesView,
        dependencies=[callers(OPS)],
        tags=["ops"],
        summary="Sum of all wallets' balances and reserved amounts, per currency (for reconciliation)",
        description="One aggregate statement, so one consistent snapshot. Core Banking's Customer funds "
        "(account 2100) in a currency equal `balance` here once the events in flight are applied.",
    )
    async def get_balances() -> BalancesView:
        async with db.connection() as conn:
            totals = await repository.totals_by_currency(conn)
        return BalancesView(
            currencies=[
                CurrencyTotalsView(
                    currency=t.currency,
                    wallets=t.wallets,
                    balance=t.balance,
                    reserved=t.reserved,
                    available=t.balance - t.reserved,
                )
                for t in totals
            ],
            as_of=datetime.now(UTC),
        )

    @app.get(
        "/v1/settlements",
        response_model=SettlementPage,
        dependencies=[callers(OPS)],
        tags=["ops"],
        summary="Reservations settled in a time range (COMMITTED or RELEASED), oldest first, paged",
        description="For reconciliation against Payment's final states (COMPLETED ↔ COMMITTED, FAILED ↔ "
        "RELEASED). `settledAt` is the settling transaction's start: read windows that ended a while ago.",
    )
    async def get_settlements(
        from_: Annotated[IsoDateTime, Query(alias="from", description="Settled at or after (inclusive)")],
        to: Annotated[IsoDateTime, Query(description="Settled before (exclusive)")],
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)] = None,
    ) -> SettlementPage:
        after = decode_cursor(cursor) if cursor else None
        async with db.connection() as conn:
            rows = await repository.settled_reservations(
                conn, settled_from=from_, settled_to=to, limit=limit + 1, after=after
            )
        items = [
            SettlementView(
                payment_id=str(r["payment_id"]),
                wallet_id=str(r["wallet_id"]),
                status=r["status"],
                amount=r["amount"],
                currency=r["currency"],
                settled_at=r["settled_at"],
            )
            for r in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last["settled_at"], last["payment_id"])
        return SettlementPage(items=items, next_cursor=next_cursor)

    @app.get(
        "/v1/reservations/held",
        response_model=HeldReservations,
        dependencies=[callers(OPS)],
        tags=["ops"],
        summary="Reservations still held this long after they were made, oldest first",
        description="Frozen funds: Payment has not finished the payment, never accepted it (its "
        "PaymentInitiated dead-lettered), or Wallet has not applied its final event.",
    )
    async def get_held_reservations(
        older_than_seconds: Annotated[float, Query(alias="olderThanSeconds", gt=0, le=MAX_STUCK_AGE_SECONDS)] = 300,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> HeldReservations:
        before = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        async with db.connection() as conn:
            total, rows = await repository.held_reservations(conn, created_before=before, limit=limit)
        items = [
            HeldReservationView.model_validate(
                {**r, "payment_id": str(r["payment_id"]), "wallet_id": str(r["wallet_id"])}
            )
            for r in rows
        ]
        return HeldReservations(total=total, items=items)

    @app.get(
        "/v1/payments/{payment_id}/history",
        response_model=PaymentSteps,
        tags=["ops"],
        dependencies=[callers(OPS)],
        summary="A payment's reservation and its settlement, with the wallet's amounts after each",
    )
    async def get_payment_history(payment_id: UUID) -> PaymentSteps:
        async with db.connection() as conn:
            reservation = await repository.find_reservation(conn, payment_id)
            entries = await repository.payment_entries(conn, payment_id) if reservation else []
        return history.payment_steps(str(payment_id), reservation, entries)

    return app
