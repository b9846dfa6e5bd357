"""The Query service's opaque page cursor: ours round-trip, anything else is a 422."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from paysaga.platform.cursors import decode_cursor, encode_cursor
from paysaga.platform.problems import Problem

pytestmark = pytest.mark.unit


def raw(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def test_a_cursor_of_ours_round_trips() -> None:
    at, pid = datetime(2026, 11, 22, 6, 1, 2, 345678, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(at, pid)) == (at, pid)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        raw({"a": 1}),
        raw(["2026-01-01T00:00:00+00:00"]),
        raw(["2026-01-01T00:00:00+00:00", 1]),  # an id that is not a string
        raw([1, str(uuid.uuid4())]),
        raw(["2026-01-01T00:00:00+00:00", "not-a-uuid"]),
        raw(["2026-01-01T00:00:00", str(uuid.uuid4())]),  # naive
        raw(["2026-01-01T00:00:00+05:00", str(uuid.uuid4())]),  # not ours: ours are UTC
        raw(["0001-01-01T00:00:00+00:00", str(uuid.uuid4())]),  # out of range for the database
        raw(["2026-01-01T00:00:00+00:00", str(uuid.uuid4()), "extra"]),
    ],
)
def test_anything_else_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 422
