"""How a payment's history reads to an operator: its stored steps (`payment_history`) and
reconciliation cases as `SagaStep`s, and where it stands now (`ServiceState`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from paysaga.contracts.ops import PaymentSteps, SagaStep, ServiceState, clock, money
from paysaga.services.payment.domain import Payment, StepKind

SERVICE = "payment"

_EFFECTS = {
    "to-confirm": "the provider is asked to confirm it before any money is released",
    "duplicate": "a duplicate: the payment is already {to}",
    "late": "late: the payment had already {to} — reconciliation case",
    "conflicting": "conflicting: the payment had already {to} — reconciliation case",
}


def _ms(details: Mapping[str, Any]) -> str:
    latency = details.get("latencyMs")
    return f", {latency:g} ms" if isinstance(latency, int | float) else ""


def _try(row: Mapping[str, Any]) -> str:
    return f"try {row['attempt']}" if row["attempt"] else ""


def _moved(row: Mapping[str, Any]) -> str:
    """` → FAILED (TIMEOUT)` when the step changed the status, else ``."""
    if row["from_status"] == row["to_status"]:
        return ""
    return f" → {row['to_status']}" + (f" ({row['error_code']})" if row["error_code"] else "")


def _next(row: Mapping[str, Any], what: str) -> str:
    return f"; next {what} at {clock(row['next_action_at'])}" if row["next_action_at"] else ""


def _received(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    deadline = clock(_time(d, "deadlineAt"))
    return f"recorded the payment: {money(d['amount'], d['currency'])}, deadline {deadline}"


def _fraud_check(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    if d.get("decision") == "UNAVAILABLE":
        return f"Anti-Fraud did not answer ({_try(row)}{_ms(d)}): {row['error']}{_next(row, 'try')}"
    reason = f": {d['reason']}" if d.get("reason") else ""
    verb = "allowed" if d.get("decision") == "ALLOW" else "denied"
    return f"Anti-Fraud {verb} it{reason} (score {d.get('score')}, {_try(row)}{_ms(d)}){_moved(row)}"


def _submission(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    how = f"({_try(row)}{_ms(d)})"
    if d.get("answer") == "ACCEPTED":
        return f"payout accepted by the provider as {d.get('providerTxnId')} {how}{_moved(row)}{_next(row, 'inquiry')}"
    if d.get("answer") == "DECLINED":
        return f"payout declined by the provider: {row['error']} {how}{_moved(row)}"
    return f"payout request not answered {how}: {row['error']}{_next(row, 'try')}"


def _callback(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    how = " ".join(w for w in ("early" if d.get("early") else "", "unclaimed" if d.get("orphan") else "") if w)
    text = _EFFECTS.get(d.get("effect", ""), "").format(to=row["to_status"])
    cases = f" {', '.join(d['cases'])}" if d.get("cases") else ""
    return f"{how + ' ' if how else ''}{d.get('status')} callback{_moved(row)}{': ' + text if text else ''}{cases}"


def _inquiry(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    asked = f"inquiry ({_try(row)}{_ms(d)}): the provider says {d.get('answer')}"
    if moved := _moved(row):
        return asked + moved + (": the deadline passed" if row["error_code"] == "TIMEOUT" else "")
    return asked + _next(row, "inquiry")


def _timeout(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    last = f" (last: {row['error']})" if row["error"] else ""
    return f"the deadline passed before the provider accepted the payout{_moved(row)}{last}"


def _late_inquiry(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    if d.get("gaveUp"):
        return f"late inquiries given up: the provider still says {d.get('answer')} — ask it before closing"
    cases = f" — reconciliation case {', '.join(d['cases'])}" if d.get("cases") else ""
    return f"late inquiry{_ms(d)}: the provider says {d.get('answer')}{cases}"


def _txn_attached(row: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    return f"the provider's payout {d.get('providerTxnId')} found for this payment (its answers were lost)"


_SUMMARIES = {
    StepKind.RECEIVED: _received,
    StepKind.FRAUD_CHECK: _fraud_check,
    StepKind.SUBMISSION: _submission,
    StepKind.CALLBACK: _callback,
    StepKind.INQUIRY: _inquiry,
    StepKind.TIMEOUT: _timeout,
    StepKind.LATE_INQUIRY: _late_inquiry,
    StepKind.TXN_ATTACHED: _txn_attached,
}


def summary(row: Mapping[str, Any]) -> str:
    """One line for a stored step."""
    describe = _SUMMARIES.get(row["kind"])
    return describe(row, row["details"]) if describe else f"{row['kind']}{_moved(row)}"


def _time(details: Mapping[str, Any], key: str) -> datetime | None:
    value = details.get(key)
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def step_view(row: Mapping[str, Any]) -> SagaStep:
    details = {
        "fromStatus": row["from_status"],
        "toStatus": row["to_status"],
        "attempt": row["attempt"],
        "errorCode": row["error_code"],
        "error": row["error"],
        "nextActionAt": row["next_action_at"],
        **row["details"],
    }
    return SagaStep(
        at=row["at"],
        service=SERVICE,
        kind=row["kind"],
        summary=summary(row),
        details={k: v for k, v in details.items() if v is not None},
    )


def case_view(row: Mapping[str, Any]) -> SagaStep:
    resolved = f"resolved {clock(row['resolved_at'])}" if row["resolved_at"] else "open"
    return SagaStep(
        at=row["opened_at"],
        service=SERVICE,
        kind="case",
        summary=(
            f"reconciliation case {row['kind']} ({resolved}): the provider says {row['callback_status']},"
            f" the payment is {row['payment_status']}"
        ),
        details={
            "caseId": row["case_id"],
            "caseKind": row["kind"],
            "providerTxnId": row["provider_txn_id"],
            "paymentStatus": row["payment_status"],
            "errorCode": row["error_code"],
            "callbackStatus": row["callback_status"],
            "resolvedAt": row["resolved_at"],
        },
    )


def state_view(payment: Payment, rows: Sequence[Mapping[str, Any]]) -> ServiceState:
    """Where the payment stands: its status, and what it waits for since when (the payment's own
    field, else the step that brought it to its status)."""
    waiting = payment.waiting()
    since = waiting.since if waiting else None
    if waiting is not None and since is None:
        status = payment.status.value
        entered = [r["at"] for r in rows if r["to_status"] == status and r["from_status"] != status]
        since = entered[-1] if entered else None
    details = {
        "providerTxnId": payment.provider_txn_id,
        "errorCode": payment.error_code,
        "attempts": payment.attempts,
        "lastError": payment.last_error,
        "submittedAt": payment.submitted_at,
        "completedAt": payment.completed_at,
        "lateInquiryUntil": payment.late_inquiry_until,
        "failureReportedAt": payment.failure_reported_at,
        "userId": str(payment.user_id),
        "amount": payment.amount,
        "currency": payment.currency,
    }
    return ServiceState(
        status=payment.status.value,
        final=payment.status.final,
        waiting_for=waiting.reason.value if waiting else None,
        since=since,
        next_action=waiting.reason.next_action if waiting else None,
        next_action_at=waiting.next_action_at if waiting else None,
        deadline_at=None if payment.status.final else payment.deadline_at,
        details={k: v for k, v in details.items() if v is not None},
    )


def payment_steps(
    payment_id: str,
    payment: Payment | None,
    rows: Sequence[Mapping[str, Any]],
    cases: Sequence[Mapping[str, Any]],
) -> PaymentSteps:
    steps = sorted([*(step_view(r) for r in rows), *(case_view(c) for c in cases)], key=lambda s: s.at)
    return PaymentSteps(
        payment_id=payment_id,
        service=SERVICE,
        steps=steps,
        state=state_view(payment, rows) if payment is not None else None,
    )
