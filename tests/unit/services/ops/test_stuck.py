"""The stuck-payments groups for money Wallet still holds where Payment's own list cannot show it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paysaga.services.ops.stuck import NOT_IN_PAYMENT, NOT_SETTLED, frozen_funds_groups

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def held(payment_id: str, minutes_ago: int) -> dict[str, object]:
    at = NOW - timedelta(minutes=minutes_ago)
    return {"paymentId": payment_id, "walletId": "w", "amount": 100, "currency": "RUB", "createdAt": at.isoformat()}


def test_unknown_and_ended_payments_get_a_group_each_and_payments_in_flight_none() -> None:
    reservations = [held("lost-1", 30), held("done", 20), held("flying", 15), held("lost-2", 10), held("gone", 5)]
    statuses = {"done": "COMPLETED", "flying": "SUBMITTED", "gone": "FAILED"}
    groups = frozen_funds_groups(reservations, statuses, now=NOW, samples=1)
    assert [(g.status, g.count, g.source) for g in groups] == [
        ("NOT_IN_PAYMENT", 2, "wallet"),
        ("COMPLETED", 1, "wallet"),
        ("FAILED", 1, "wallet"),
    ]
    lost = groups[0]
    assert lost.waiting_for == NOT_IN_PAYMENT and groups[1].waiting_for == NOT_SETTLED
    assert lost.oldest_created_at == NOW - timedelta(minutes=30)
    assert [(s.payment_id, s.age_seconds) for s in lost.samples] == [("lost-1", 1800.0)]  # only `samples` of them


def test_nothing_held_or_everything_in_flight_adds_no_group() -> None:
    assert frozen_funds_groups([], {}, now=NOW, samples=5) == []
    assert frozen_funds_groups([held("p", 9)], {"p": "CHECKED"}, now=NOW, samples=5) == []
