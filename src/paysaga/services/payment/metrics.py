"""Payment's own metrics: how payments end and how long their saga took, the provider's answers, and
the gauges an operator is paged on (stuck payments, open reconciliation cases)."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from paysaga.platform.db import Database
from paysaga.platform.metrics import RECONCILIATION_CASES_OPEN
from paysaga.platform.periodic import Periodic
from paysaga.services.payment import repository
from paysaga.services.payment.domain import CaseKind, Payment

PAYMENTS_FINISHED = Counter(
    "paysaga_payments_finished_total",
    "Payments that reached a final state, by status and errorCode (none for COMPLETED)",
    ["status", "error_code"],
)
SAGA_DURATION = Histogram(
    "paysaga_payment_saga_duration_seconds",
    "From PaymentInitiated (its createdAt, at Wallet) to the final state at Payment, by final status",
    ["status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)
PROVIDER_REQUEST_DURATION = Histogram(
    "paysaga_provider_request_duration_seconds",
    "Calls to the payout provider: submit or inquiry; outcome success (2xx), declined (400/422 to a "
    "submit), error (another HTTP status or an unreadable answer), unreachable (no answer)",
    ["operation", "outcome"],
)
PAYMENTS_STUCK = Gauge(
    "paysaga_payments_stuck", "Payments not final PAYMENT_STUCK_AFTER_SECONDS after they were initiated"
)


def finished(payment: Payment) -> Callable[[], None]:
    """What to count once the transaction that made `payment` final has committed."""
    assert payment.completed_at is not None
    status, error_code = payment.status.value, payment.error_code or ""
    seconds = max(0.0, (payment.completed_at - payment.created_at).total_seconds())

    def count() -> None:
        PAYMENTS_FINISHED.labels(status, error_code).inc()
        SAGA_DURATION.labels(status).observe(seconds)

    return count


def provider_request(operation: str, outcome: str, started: float) -> None:
    """A provider call that began at `started` (`time.perf_counter()`) ended with `outcome`."""
    PROVIDER_REQUEST_DURATION.labels(operation, outcome).observe(time.perf_counter() - started)


def gauges(db: Database, *, stuck_after_seconds: float, every_seconds: float) -> Periodic:
    """The worker that counts stuck payments and open cases every `every_seconds` (two small queries)."""

    async def refresh() -> None:
        async with db.connection() as conn:
            stuck = await repository.count_stuck(conn, older_than_seconds=stuck_after_seconds)
            cases = await repository.count_open_cases(conn)
        PAYMENTS_STUCK.set(stuck)
        for kind in CaseKind:
            RECONCILIATION_CASES_OPEN.labels(kind.value).set(cases.get(kind.value, 0))

    return Periodic("payment-metrics", refresh, every_seconds=every_seconds)
