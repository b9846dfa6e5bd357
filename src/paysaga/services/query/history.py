"""A payment as the read model shows it, for operators: what the customer sees (status, amount,
provider txn id, error code), and when the read model last changed it. When Query applied each event
is in its inbox (`GET /ops/inbox`); the times of the events themselves are in the details."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paysaga.contracts.ops import PaymentSteps, SagaStep, ServiceState, money

SERVICE = "query"


def payment_steps(payment_id: str, row: Mapping[str, Any] | None) -> PaymentSteps:
    if row is None:
        return PaymentSteps(payment_id=payment_id, service=SERVICE, steps=[])
    view = {
        "status": row["status"],
        "amount": row["amount"],
        "currency": row["currency"],
        "providerTxnId": row["provider_txn_id"],
        "errorCode": row["error_code"],
        "createdAt": row["created_at"],
        "statusAt": row["status_at"],
        "updatedAt": row["updated_at"],
        "refreshedAt": row["refreshed_at"],
        "userId": str(row["user_id"]) if row["user_id"] else None,
    }
    details = {k: v for k, v in view.items() if v is not None}
    pending = row["status"] == "PENDING"
    shown = money(row["amount"], row["currency"]) if row["amount"] is not None else "amount not known yet"
    why = f" ({row['error_code']})" if row["error_code"] else ""
    step = SagaStep(
        # Rows written before `refreshed_at` existed: the time of their last event.
        at=row["refreshed_at"] or row["updated_at"],
        service=SERVICE,
        kind="read-model",
        summary=f"the customer sees {row['status']}{why}: {shown}",
        details=details,
    )
    return PaymentSteps(
        payment_id=payment_id,
        service=SERVICE,
        steps=[step],
        state=ServiceState(
            status=row["status"],
            final=not pending,
            waiting_for="the payment's outcome (PaymentCompleted or PaymentFailed)" if pending else None,
            since=row["created_at"] if pending else None,
            details=details,
        ),
    )
