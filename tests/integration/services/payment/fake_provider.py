"""A stand-in for the provider's payout API, as the Payment service sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

from paysaga.services.payment.provider_client import ProviderClient


@dataclass
class FakeProvider:
    """`GET /v1/payouts/{txn}`: the paymentId and status of the payouts in `payouts`, else 404;
    503 while `down`; a 200 that is not JSON for txn ids starting with `ptx_garbage`.
    `POST /v1/payouts`: answers `submit_status`; a 201 creates (once per paymentId) the payout
    `ptx_<paymentId>`. Each request's Idempotency-Key and paymentId go to `submissions`."""

    client: ProviderClient
    payouts: dict[str, str] = field(default_factory=dict)  # txn → paymentId
    statuses: dict[str, str] = field(default_factory=dict)  # txn → status (default SUCCESS)
    asked: list[str] = field(default_factory=list)
    down: bool = False
    submit_status: int = 201
    submissions: list[tuple[str, str]] = field(default_factory=list)  # (Idempotency-Key, paymentId)
