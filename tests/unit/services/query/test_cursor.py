"""The opaque page cursor (Query, Wallet, Payment): ours round-trip, every string of its documented
form is a position, anything else is a 422."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.platform.cursors import CURSOR_PATTERN, decode_cursor, encode_cursor
from paysaga.platform.problems import Problem

pytestmark = pytest.mark.unit


def test_a_cursor_of_ours_round_trips_and_has_the_documented_form() -> None:
    at, pid = datetime(2026, 11, 22, 6, 1, 2, 345678, tzinfo=UTC), uuid.uuid4()
    cursor = encode_cursor(at, pid)
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert decode_cursor(cursor) == (at, pid)


@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_cursor_of_the_documented_form_is_a_position(cursor: str) -> None:
    at, row_id = decode_cursor(cursor)
    assert encode_cursor(at, row_id) == cursor


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "1764000000000000",  # no id
        "1764000000000000." + "0" * 31,  # a short id
        "176400000000000." + "0" * 32,  # 15 digits
        "1764000000000000." + "G" * 32,
        "1764000000000000." + "A" * 32,  # ours are lower case
        "1764000000000000." + "0" * 32 + "\n",
    ],
)
def test_anything_else_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 422
