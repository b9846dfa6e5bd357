"""A payment as the read model shows it, for operators: what the customer sees (status, amount,
provider txn id, error code) and when each part of it arrived. When Query applied each event is in
its inbox (`GET /ops/inbox`)."""

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
        "userId": str(row["user_id"]) if row["user_id"] else None,
    }
    steps = []
    if row["created_at"] is not None:  # PaymentInitiated applied (it may come after the final event)
        shown = money(row["amount"], row["currency"]) if row["amount"] is not None else "?"
        steps.append(
            SagaStep(
                at=row["created_at"],
                service=SERVICE,
                kind="read-model",
                summary=f"the customer sees the payment: {shown}, PENDING until its outcome",
                details={"from": "PaymentInitiated"},
            )
        )
    if row["status"] != "PENDING":
        why = f" ({row['error_code']})" if row["error_code"] else ""
        steps.append(
            SagaStep(
                at=row["status_at"],
                service=SERVICE,
                kind="read-model",
                summary=f"the customer sees {row['status']}{why}",
                details={"from": "PaymentCompleted" if row["status"] == "COMPLETED" else "PaymentFailed"},
            )
        )
    return PaymentSteps(
        payment_id=payment_id,
        service=SERVICE,
        steps=steps,
        state=ServiceState(
            status=row["status"],
            final=row["status"] != "PENDING",
            waiting_for="the payment's outcome (PaymentCompleted or PaymentFailed)"
            if row["status"] == "PENDING"
            else None,
            since=row["created_at"] if row["status"] == "PENDING" else None,
            details={k: v for k, v in view.items() if v is not None},
        ),
    )
