"""The payment state machine (SPEC §4 steps 5-8), as pure rules.

    RECEIVED ──fraud allow──▶ CHECKED ──provider accepted──▶ SUBMITTED ──SUCCESS──▶ COMPLETED
        │                        │                               │
        └─fraud deny─▶ FAILED    └─provider declined─▶ FAILED    ├─FAILED callback─▶ FAILED
          (FRAUD_SUSPECTED)        (PROVIDER_REJECTED)           └─deadline, inquiry not final─▶ FAILED(TIMEOUT)

Anti-Fraud or provider outages keep the payment in its state and retry with backoff (the same
paymentId is the provider's idempotency key, so a retried submission never pays twice), until the
hard deadline, which fails it with TIMEOUT. A final state never changes; callbacks that disagree
with it become reconciliation cases.
"""

from __future__ import annotations

import random
from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "RECEIVED"
    CHECKED = "CHECKED"
    SUBMITTED = "SUBMITTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def final(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED)


class ErrorCode(StrEnum):
    FRAUD_SUSPECTED = "FRAUD_SUSPECTED"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    PROVIDER_DECLINED = "PROVIDER_DECLINED"
    TIMEOUT = "TIMEOUT"


class CaseKind(StrEnum):
    LATE_SUCCESS = "LATE_SUCCESS"  # the provider paid out a payment we had already failed
    CONFLICTING_CALLBACK = "CONFLICTING_CALLBACK"  # a FAILED callback for a completed payment


def outcome_of_callback(status: str) -> tuple[Status, ErrorCode | None]:
    """What a provider's final status (callback or inquiry) makes of a submitted payment."""
    if status == "SUCCESS":
        return Status.COMPLETED, None
    if status == "FAILED":
        return Status.FAILED, ErrorCode.PROVIDER_DECLINED
    raise ValueError(f"not a final provider status: {status!r}")


def callback_case(current: Status, callback_status: str) -> CaseKind | None:
    """A callback for a payment already final: None if it agrees (a duplicate), else the case to open."""
    agrees = (current is Status.COMPLETED and callback_status == "SUCCESS") or (
        current is Status.FAILED and callback_status == "FAILED"
    )
    if agrees:
        return None
    return CaseKind.LATE_SUCCESS if callback_status == "SUCCESS" else CaseKind.CONFLICTING_CALLBACK


def retry_delay(attempt: int, *, initial: float, maximum: float) -> float:
    """Exponential backoff with full jitter in [delay/2, delay]."""
    delay = min(maximum, initial * 2 ** max(0, attempt - 1))
    return delay * random.uniform(0.5, 1.0)
