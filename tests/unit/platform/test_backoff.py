"""The platform's one retry schedule (consumers, Payment's steps, notifications, webhooks)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.platform.backoff import backoff_delay

pytestmark = pytest.mark.unit


def test_the_delay_doubles_up_to_the_cap() -> None:
    top = [backoff_delay(n, initial=1.0, maximum=30.0, jitter=1.0) for n in range(1, 8)]
    assert top == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    bottom = [backoff_delay(n, initial=1.0, maximum=30.0, jitter=0.0) for n in range(1, 8)]
    assert bottom == [d / 2 for d in top]
    assert backoff_delay(0, initial=1.0, maximum=30.0, jitter=1.0) == 1.0  # 0 counts as the first
    assert backoff_delay(10_000, initial=1.0, maximum=30.0, jitter=1.0) == 30.0  # no overflow


def test_jitter_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="jitter"):
        backoff_delay(3, initial=1.0, maximum=30.0, jitter=1.5)


@given(st.integers(min_value=0, max_value=200))
def test_a_drawn_delay_stays_within_its_jitter_band(attempt: int) -> None:
    delay = backoff_delay(attempt, initial=0.5, maximum=60.0)
    cap = min(60.0, 0.5 * 2 ** max(0, attempt - 1))
    assert cap / 2 <= delay <= cap
