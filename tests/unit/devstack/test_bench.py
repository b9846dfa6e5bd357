"""`make bench`: enough customers that Anti-Fraud's velocity rule never decides a run; the rate over a run."""

from __future__ import annotations

import pytest

from paysaga.devstack.bench import PER_CUSTOMER, customers_needed, rate_over_run
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


def test_the_rate_over_the_run_counts_completions_after_the_load_ended() -> None:
    # 30 s of load, 60 completions in it and 60 more while the queue drained, the last at 40 s.
    completed = [100.0 + 0.5 * i for i in range(60)] + [130.0 + i / 6 for i in range(61)][1:]
    span, rate = rate_over_run(100.0, completed)
    assert span == pytest.approx(40.0)
    assert rate == pytest.approx(120 / 40.0)


def test_no_completion_is_no_rate() -> None:
    assert rate_over_run(5.0, []) == (0.0, 0.0)
