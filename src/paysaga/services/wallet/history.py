"""A payment's history in the Wallet, for operators: its reservation and settlement, with the
wallet's amounts after each (from the wallet ledger), and whether the reservation is still held."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paysaga.contracts.ops import PaymentSteps, SagaStep, ServiceState, money
from paysaga.services.wallet.domain import Reservation, ReservationStatus

SERVICE = "wallet"

_STEPS = {
    "RESERVE": ("reservation", "reserved {amount}"),
    "PAYOUT": ("settlement", "committed the reservation: {amount} paid out"),
    "RELEASE": ("settlement", "released the reservation: {amount} available again"),
}


def _step(entry: Mapping[str, Any], currency: str) -> SagaStep:
    kind, text = _STEPS[entry["kind"]]
    balance, reserved = entry["balance_after"], entry["reserved_after"]
    amounts = (
        f"balance {money(balance, currency)}, reserved {money(reserved, currency)},"
        f" available {money(balance - reserved, currency)}"
    )
    return SagaStep(
        at=entry["created_at"],
        service=SERVICE,
        kind=kind,
        summary=f"{text.format(amount=money(entry['amount'], currency))} ({amounts})",
        details={
            "ledgerEntryId": entry["entry_id"],
            "ledgerKind": entry["kind"],
            "amount": entry["amount"],
            "currency": currency,
            "balanceAfter": balance,
            "reservedAfter": reserved,
            "availableAfter": balance - reserved,
        },
    )


def payment_steps(
    payment_id: str, reservation: Reservation | None, entries: Sequence[Mapping[str, Any]]
) -> PaymentSteps:
    if reservation is None:
        return PaymentSteps(payment_id=payment_id, service=SERVICE, steps=[])
    held = reservation.status is ReservationStatus.RESERVED
    return PaymentSteps(
        payment_id=payment_id,
        service=SERVICE,
        steps=[_step(e, reservation.currency) for e in entries],
        state=ServiceState(
            status=reservation.status.value,
            final=not held,
            waiting_for="the payment's outcome (PaymentCompleted or PaymentFailed) to settle it" if held else None,
            since=reservation.created_at if held else None,
            details={
                "walletId": str(reservation.wallet_id),
                "amount": reservation.amount,
                "currency": reservation.currency,
                "reservedAt": reservation.created_at,
            },
        ),
    )
