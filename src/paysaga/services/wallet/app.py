"""Wallet HTTP API (internal: the BFF calls it)."""

from __future__ import annotations

from uuid import UUID

from fastapi import FastAPI

from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import not_found
from paysaga.services.wallet import repository
from paysaga.services.wallet.schemas import WalletView


def build_app(db: Database, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga Wallet",
        description="Wallets, balances and reservations. Consumes customer-events and payment-events.",
        readiness=readiness,
    )

    @app.get("/v1/users/{user_id}/wallet", response_model=WalletView)
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

    return app
