"""A payment's history in Core Banking, for operators: when its amount was learned, its journal
entries (the payout, any reversal) with their lines, or a completion waiting for the amount."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paysaga.contracts.ops import PaymentSteps, SagaStep, ServiceState, money
from paysaga.services.core_banking.domain import JournalEntry
from paysaga.services.core_banking.repository import UnpostedCompletion

SERVICE = "core_banking"


def _entry(e: JournalEntry) -> SagaStep:
    lines = " / ".join(
        f"{'Dr' if x.side.value == 'DEBIT' else 'Cr'} {x.account_code} {money(x.amount, x.currency)}" for x in e.lines
    )
    return SagaStep(
        at=e.posted_at,
        service=SERVICE,
        kind="journal-entry",
        summary=f"posted journal entry {e.entry_id} ({e.kind.value}): {lines}",
        details={
            "entryId": e.entry_id,
            "entryKind": e.kind.value,
            "effectiveAt": e.effective_at,
            "sourceEventId": e.source_event_id,
            "reversesEntryId": e.reverses_entry_id,
            "reversedByEntryId": e.reversed_by_entry_id,
            "lines": [
                {"account": x.account_code, "side": x.side.value, "amount": x.amount, "currency": x.currency}
                for x in e.lines
            ],
        },
    )


def payment_steps(
    payment_id: str,
    known: Mapping[str, Any] | None,
    entries: Sequence[JournalEntry],
    waiting: UnpostedCompletion | None,
) -> PaymentSteps:
    steps = [_entry(e) for e in entries]
    if known is not None:
        amount = money(known["amount"], known["currency"])
        steps.append(
            SagaStep(
                at=known["recorded_at"],
                service=SERVICE,
                kind="amount",
                summary=f"learned the amount from PaymentInitiated: {amount}",
                details={"amount": known["amount"], "currency": known["currency"]},
            )
        )
    if waiting is not None:
        steps.append(
            SagaStep(
                at=waiting.received_at,
                service=SERVICE,
                kind="unposted",
                summary="PaymentCompleted came before PaymentInitiated: the payout waits for its amount to be posted",
                details={"providerTxnId": waiting.provider_txn_id, "sourceEventId": waiting.source_event_id},
            )
        )
    if not steps:
        return PaymentSteps(payment_id=payment_id, service=SERVICE, steps=[])
    status = "WAITING" if waiting else "POSTED" if entries else "NOTHING POSTED"
    return PaymentSteps(
        payment_id=payment_id,
        service=SERVICE,
        steps=sorted(steps, key=lambda s: s.at),
        state=ServiceState(
            status=status,
            final=waiting is None,  # a failed payment is never posted: nothing to wait for
            waiting_for="PaymentInitiated (the amount) to post the completed payout" if waiting else None,
            since=waiting.received_at if waiting else None,
        ),
    )
