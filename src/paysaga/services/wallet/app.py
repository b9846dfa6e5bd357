"""Wallet HTTP API (internal: the BFF calls it)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import FastAPI, Response, status

from paysaga.contracts.identities import BFF, OPS
from paysaga.contracts.ops import PaymentSteps
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem, not_found
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
    LedgerEntry,
    ReservationRequest,
    ReservationView,
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
        "publishes PaymentInitiated.",
        readiness=readiness,
    )

    @app.get("/v1/users/{user_id}/wallet", response_model=WalletView, dependencies=[callers(BFF, OPS)])
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

    @app.get("/v1/users/{user_id}/wallet/ledger", response_model=list[LedgerEntry], dependencies=[callers(BFF, OPS)])
    async def get_ledger(user_id: UUID, limit: int = 100) -> list[LedgerEntry]:
        async with db.connection() as conn:
            wallet = await repository.find_by_user(conn, user_id)
            if wallet is None:
                raise not_found(f"user {user_id} has no wallet (yet)")
            rows = await repository.ledger(conn, wallet.wallet_id, min(max(limit, 1), 1000))
        return [LedgerEntry.model_validate({**r, "reference": str(r["reference"])}) for r in rows]

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
