"""A payment's history in Anti-Fraud, for operators: the decision with its reasons, score and the
velocity figures it was made on; when the payment was counted for its user's velocity; the outcome
it learned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paysaga.contracts.ops import PaymentSteps, SagaStep, ServiceState, money
from paysaga.services.antifraud.domain import CheckRecord, Decision

SERVICE = "antifraud"


def _check(check: CheckRecord) -> SagaStep:
    verdict, payment = check.verdict, check.payment
    reasons = f": {', '.join(r.value for r in verdict.reasons)}" if verdict.reasons else ""
    count = check.velocity.count
    velocity = (
        f"{count} payment{'s' if count != 1 else ''}, {money(check.velocity.total, payment.currency)} in the window"
    )
    return SagaStep(
        at=check.checked_at,
        service=SERVICE,
        kind="fraud-decision",
        summary=f"{verdict.decision.value}{reasons} (score {verdict.score:g}; {velocity})",
        details={
            "decision": verdict.decision.value,
            "reasons": [r.value for r in verdict.reasons],
            "score": verdict.score,
            "velocityCount": check.velocity.count,
            "velocitySum": check.velocity.total,
            "windowEnd": payment.created_at,
            "amount": payment.amount,
            "currency": payment.currency,
            "recipientAccountNumber": payment.account_number,
        },
    )


def payment_steps(
    payment_id: str,
    check: CheckRecord | None,
    known: Mapping[str, Any] | None,
    outcome: Mapping[str, Any] | None,
) -> PaymentSteps:
    steps = []
    if check is not None:
        steps.append(_check(check))
    if known is not None:
        source = "its PaymentInitiated" if known["learned_from"] == "event" else "its check"
        steps.append(
            SagaStep(
                at=known["recorded_at"],
                service=SERVICE,
                kind="velocity",
                summary=f"counted for the user's velocity (learned from {source})",
                details={"learnedFrom": known["learned_from"]},
            )
        )
    if outcome is not None:
        why = f" ({outcome['error_code']})" if outcome["error_code"] else ""
        steps.append(
            SagaStep(
                at=outcome["recorded_at"],
                service=SERVICE,
                kind="outcome",
                summary=f"learned the outcome: {outcome['status']}{why}",
                details={
                    "status": outcome["status"],
                    "errorCode": outcome["error_code"],
                    "providerTxnId": outcome["provider_txn_id"],
                    "completedAt": outcome["completed_at"],
                },
            )
        )
    state = None
    if steps:
        decision = check.verdict.decision if check is not None else None
        state = ServiceState(
            status=decision.value if decision else "NOT CHECKED",
            final=True,  # Anti-Fraud waits for nothing: it answers Payment's check and learns from events
            details={"denied": decision is Decision.DENY},
        )
    return PaymentSteps(payment_id=payment_id, service=SERVICE, steps=sorted(steps, key=lambda s: s.at), state=state)
