import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.platform.outbox import LANES, lane_of

pytestmark = pytest.mark.unit


@given(st.text(min_size=1))
def test_a_key_always_maps_to_the_same_lane_in_range(key: str) -> None:
    assert lane_of(key) == lane_of(key)
    assert 0 <= lane_of(key) < LANES


def test_keys_spread_over_all_lanes() -> None:
    assert {lane_of(f"payment-{i}") for i in range(1000)} == set(range(LANES))
