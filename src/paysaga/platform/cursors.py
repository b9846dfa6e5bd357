"""Keyset cursors for paged HTTP lists ordered by (time, id): opaque to clients, checked when read.

A page's `nextCursor` names its last row; the next page starts strictly after it, so rows written
meanwhile are neither skipped nor repeated (unlike an offset). A cursor is the row's time in
microseconds since 1970 (16 digits) and its id (32 hex digits): `CURSOR_PATTERN`, which the OpenAPI
documents state, is exactly what `decode_cursor` accepts, and every string it matches is a position.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

from paysaga.platform.problems import Problem

CURSOR_PATTERN = r"^[0-9]{16}\.[0-9a-f]{32}$"
CURSOR_DESCRIPTION = "The `nextCursor` of the previous page"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(at: datetime, row_id: UUID) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros:016d}.{row_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The position a cursor encodes; anything not of its form is a 422 problem."""
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise Problem(422, "validation-error", "Invalid cursor", "Use the nextCursor of a previous page.")
    micros, row_id = cursor.split(".")
    return _EPOCH + timedelta(microseconds=int(micros)), UUID(hex=row_id)
