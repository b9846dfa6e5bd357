"""`make bench` offers payments over enough customers that Anti-Fraud's velocity rule never decides a run."""

from __future__ import annotations

import pytest

from paysaga.devstack.bench import PER_CUSTOMER, customers_needed
from paysaga.services.antifraud.settings import AntiFraudSettings

pytestmark = pytest.mark.unit


def test_no_customer_pays_more_than_the_velocity_rule_allows() -> None:
    limit = AntiFraudSettings().velocity_max_count  # payments of one customer an hour before DENY
    assert limit > PER_CUSTOMER
    count = customers_needed([80, 100], 60, warmup_payments=200)  # 11,000 payments
    assert count == 138
    assert 11_000 / count <= PER_CUSTOMER


def test_small_runs_keep_fifty_customers() -> None:
    assert customers_needed([10, 20], 30, warmup_payments=300) == 50
