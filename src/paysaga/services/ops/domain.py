"""The Ops service's rules, as plain Python: operators' passwords, what a dead-letter record says,
which records a filter selects, what a replay re-publishes, and the page cursors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from paysaga.contracts.topics import ALL_TOPICS, dead_letter_topic

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
DLQ_SUFFIX = ".dlq"
# Headers the consumer adds when it dead-letters a record; a replay drops them.
DLQ_HEADER_PREFIX = "dlq_"
# Added to a replayed record: which replay made it (the record is otherwise the original).
REPLAY_HEADER = "ops_replay_id"


class WeakPassword(ValueError):
    pass


class UnknownTopic(ValueError):
    """Not one of the platform's topics (or their dead-letter topics)."""


class InvalidCursor(ValueError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> None:
    """An operator's password: 12+ characters, a letter and a digit, not a few characters repeated."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise WeakPassword(f"the password must have at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise WeakPassword(f"the password must have at most {PASSWORD_MAX_LENGTH} characters")
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        raise WeakPassword("the password must contain at least one letter and one digit")
    if len(set(password)) < 6:
        raise WeakPassword("the password must not repeat a few characters")


# What a `topic` parameter may name: a topic of the platform or its dead-letter topic.
TOPIC_NAMES = tuple(sorted([*ALL_TOPICS, *(t + DLQ_SUFFIX for t in ALL_TOPICS)]))


def dead_letter_topics(topic: str | None = None) -> list[str]:
    """The dead-letter topics to read: the one of `topic` (named by itself or by its `.dlq`), or all."""
    if topic is None:
        return [dead_letter_topic(t) for t in ALL_TOPICS]
    original = topic.removesuffix(DLQ_SUFFIX)
    if original not in ALL_TOPICS:
        raise UnknownTopic(f"{topic!r} is not a topic of the platform ({', '.join(ALL_TOPICS)})")
    return [dead_letter_topic(original)]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record of a `<topic>.dlq`, read: where it sits, why it is there, and what it carried."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime | None
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in reversed(self.headers):  # the last one wins, as the consumer reads them
            if key == name:
                return value.decode(errors="replace")
        return None

    @property
    def reason(self) -> str | None:
        return self.header("dlq_reason")

    @property
    def error(self) -> str | None:
        return self.header("dlq_error")

    @property
    def consumer_group(self) -> str | None:
        return self.header("dlq_consumer_group")

    @property
    def original_topic(self) -> str:
        return self.header("dlq_original_topic") or self.topic.removesuffix(DLQ_SUFFIX)

    @property
    def original_partition(self) -> int | None:
        return _int(self.header("dlq_original_partition"))

    @property
    def original_offset(self) -> int | None:
        return _int(self.header("dlq_original_offset"))

    @property
    def failed_at(self) -> str | None:
        return self.header("dlq_failed_at")

    @property
    def ce_type(self) -> str | None:
        return self.header("ce_type")

    @property
    def ce_id(self) -> str | None:
        return self.header("ce_id")

    @property
    def key_text(self) -> str | None:
        return self.key.decode(errors="backslashreplace") if self.key is not None else None

    def value_json(self) -> Any:
        """The value as JSON, or None when it is not JSON."""
        try:
            return orjson.loads(self.value)
        except orjson.JSONDecodeError:
            return None

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the record had on its original topic (the dead-letter ones removed)."""
        return [(k, v) for k, v in self.headers if not k.startswith(DLQ_HEADER_PREFIX)]

    def replay_headers(self, replay_id: int) -> list[tuple[str, bytes]]:
        """What a replay sends: the original headers, and which replay it is."""
        kept = [(k, v) for k, v in self.original_headers() if k != REPLAY_HEADER]
        return [*kept, (REPLAY_HEADER, str(replay_id).encode())]

    @property
    def coordinates(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters a browse or a replay selects; None matches anything."""

    group: str | None = None
    reason: str | None = None
    ce_type: str | None = None
    key: str | None = None

    def matches(self, record: DeadLetter) -> bool:
        return (
            (self.group is None or record.consumer_group == self.group)
            and (self.reason is None or record.reason == self.reason)
            and (self.ce_type is None or record.ce_type == self.ce_type)
            and (self.key is None or record.key_text == self.key)
        )


# --- page cursors -------------------------------------------------------------------------------


_POSITION = r"[A-Za-z0-9._-]{1,249}:[0-9]{1,5}=[0-9]{1,18}"
# A dead-letter page cursor: `topic:partition=offset` of every partition, comma separated; every
# string of this form is one (the OpenAPI document states it).
POSITIONS_CURSOR_PATTERN = rf"^{_POSITION}(?:,{_POSITION})*$"


def encode_positions(positions: Mapping[tuple[str, int], int]) -> str:
    """A dead-letter page cursor: the next offset to read of every partition."""
    return ",".join(f"{topic}:{partition}={offset}" for (topic, partition), offset in sorted(positions.items()))


def decode_positions(cursor: str) -> dict[tuple[str, int], int]:
    if len(cursor) > MAX_POSITIONS_CURSOR or not re.fullmatch(POSITIONS_CURSOR_PATTERN, cursor):
        raise InvalidCursor("the cursor is not one this API gave out")
    positions: dict[tuple[str, int], int] = {}
    for entry in cursor.split(","):
        where, offset = entry.rsplit("=", 1)
        topic, partition = where.rsplit(":", 1)
        positions[(topic, int(partition))] = int(offset)
    return positions


MAX_POSITIONS_CURSOR = 4000


def encode_id_cursor(ids: Sequence[int], limit: int) -> str | None:
    """The cursor of the next page of a newest-first listing by id: its last id, if the page was full."""
    return str(ids[-1]) if len(ids) == limit and ids else None


# An id cursor: what `decode_id_cursor` accepts (ASCII digits, below PostgreSQL's bigint).
ID_CURSOR_PATTERN = r"^[0-9]{1,18}$"


def decode_id_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not re.fullmatch(ID_CURSOR_PATTERN, cursor):
        raise InvalidCursor("the cursor is not one this API gave out")
    return int(cursor)
