"""Stuck payments (SPEC §9): Payment's own list of payments not final long after they began, plus the
funds frozen where Payment cannot see them.

Payment groups the payments it holds by where they stopped. A payment whose `PaymentInitiated` it
never applied (dead-lettered by its group, say) is not there: Payment has no row for it. Nor is one
Payment ended but whose end Wallet has not applied (its `PaymentCompleted` dead-lettered by Wallet's
group). Both leave money reserved in Wallet, so the view also reads Wallet's oldest held reservations,
asks Payment which of them it knows, and adds a group for each case Payment's list cannot show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from paysaga.services.ops.peers import Peer
from paysaga.services.ops.schemas import StuckGroup, StuckPayments, StuckSample

# Wallet's oldest held reservations looked at (Payment's statuses are asked 100 at a time).
HELD_LIMIT = 100
FINAL = frozenset({"COMPLETED", "FAILED"})

NOT_IN_PAYMENT = (
    "Payment to apply its PaymentInitiated (Payment never did: look in the dead letters of payment-events "
    "for the payment group)"
)
NOT_SETTLED = (
    "Wallet to settle the reservation of a payment Payment ended (Wallet has not applied the final event: "
    "look in the dead letters of payment-events for the wallet group)"
)
REPLAY = "none by itself: fix the cause, then replay the dead letter (POST /ops/v1/dead-letters/replay)"


def frozen_funds_groups(
    held: Sequence[Mapping[str, Any]], statuses: Mapping[str, str], *, now: datetime, samples: int
) -> list[StuckGroup]:
    """Groups for the held reservations (Wallet's items, oldest first) that Payment does not know
    (`statuses`: payment id → status, of those it knows) or has ended; a not-final one is Payment's to list."""
    unknown = [r for r in held if r["paymentId"] not in statuses]
    ended: dict[str, list[Mapping[str, Any]]] = {}
    for r in held:
        if statuses.get(r["paymentId"]) in FINAL:
            ended.setdefault(statuses[r["paymentId"]], []).append(r)
    groups = []
    if unknown:
        groups.append(_group(NOT_IN_PAYMENT, "NOT_IN_PAYMENT", unknown, now, samples))
    for status, items in sorted(ended.items()):
        groups.append(_group(NOT_SETTLED, status, items, now, samples))
    return groups


def _group(
    waiting_for: str, status: str, items: Sequence[Mapping[str, Any]], now: datetime, samples: int
) -> StuckGroup:
    oldest = [datetime.fromisoformat(r["createdAt"]) for r in items]
    return StuckGroup(
        status=status,
        waiting_for=waiting_for,
        next_action=REPLAY,
        count=len(items),
        oldest_created_at=oldest[0],
        source="wallet",
        samples=[
            StuckSample(
                payment_id=r["paymentId"],
                created_at=at,
                age_seconds=round((now - at).total_seconds(), 3),
                attempts=0,
                last_error=None,
                next_attempt_at=None,
                provider_txn_id=None,
            )
            for r, at in list(zip(items, oldest, strict=True))[:samples]
        ],
    )


class StuckView:
    def __init__(self, payment: Peer, wallet: Peer) -> None:
        self._payment = payment
        self._wallet = wallet

    async def stuck(self, *, older_than_seconds: float, samples: int) -> StuckPayments:
        params = {"olderThanSeconds": str(older_than_seconds)}
        in_payment, in_wallet = await asyncio.gather(
            self._payment.request("GET", "/v1/stuck-payments", params={**params, "samples": str(samples)}),
            self._wallet.request("GET", "/v1/reservations/held", params={**params, "limit": str(HELD_LIMIT)}),
        )
        found = StuckPayments.model_validate(in_payment.json())
        held: list[dict[str, Any]] = in_wallet.json()["items"]
        statuses: dict[str, str] = {}
        if held:
            asked = [("paymentId", r["paymentId"]) for r in held]
            known = await self._payment.request("GET", "/v1/payment-statuses", params=asked)
            statuses = {i["paymentId"]: i["status"] for i in known.json()["items"]}
        extra = frozen_funds_groups(held, statuses, now=datetime.now(UTC), samples=samples)
        groups = sorted([*found.groups, *extra], key=lambda g: g.oldest_created_at)
        return found.model_copy(update={"groups": groups, "total": sum(g.count for g in groups)})
