"""Keyset cursors for paged HTTP lists ordered by (time, id): opaque to clients, checked when read.

A page's `nextCursor` names its last row; the next page starts strictly after it, so rows written
meanwhile are neither skipped nor repeated (unlike an offset).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import UUID

import orjson

from paysaga.platform.problems import Problem

MIN_CURSOR_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CURSOR_TIME = datetime(9000, 1, 1, tzinfo=UTC)


def encode_cursor(at: datetime, row_id: UUID) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([at.isoformat(), str(row_id)])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The position a cursor of ours encodes; anything else (tampered, truncated) is a 422 problem."""
    invalid = Problem(422, "validation-error", "Invalid cursor", "Use the nextCursor of a previous page.")
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(v, str) for v in decoded)):
            raise invalid
        at = datetime.fromisoformat(decoded[0])
        row_id = UUID(decoded[1])
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise invalid from exc
    # Ours are always UTC; a naive or far-off time would only fail later, in the database.
    if at.utcoffset() != timedelta(0) or not MIN_CURSOR_TIME <= at <= MAX_CURSOR_TIME:
        raise invalid
    return at, row_id
