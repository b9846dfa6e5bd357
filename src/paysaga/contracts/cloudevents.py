"""CloudEvents 1.0 Kafka protocol binding, binary content mode, plus W3C `traceparent`.

The payload is the event's JSON; the metadata are headers. Every produced record carries
`ce_specversion`, `ce_id`, `ce_type`, `ce_source`, `ce_time`, `content-type`, and
`traceparent` when a trace is active.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

H_SPECVERSION = "ce_specversion"
H_ID = "ce_id"
H_TYPE = "ce_type"
H_SOURCE = "ce_source"
H_TIME = "ce_time"
H_CONTENT_TYPE = "content-type"
H_TRACEPARENT = "traceparent"

REQUIRED_HEADERS = (H_SPECVERSION, H_ID, H_TYPE, H_SOURCE, H_TIME)

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class EventMeta:
    """The CloudEvents attributes of one record."""

    id: str
    type: str
    source: str
    time: datetime
    traceparent: str | None = None

    def to_headers(self) -> Headers:
        headers: Headers = [
            (H_SPECVERSION, SPEC_VERSION.encode()),
            (H_ID, self.id.encode()),
            (H_TYPE, self.type.encode()),
            (H_SOURCE, self.source.encode()),
            (H_TIME, self.time.astimezone(UTC).isoformat().replace("+00:00", "Z").encode()),
            (H_CONTENT_TYPE, CONTENT_TYPE.encode()),
        ]
        if self.traceparent:
            headers.append((H_TRACEPARENT, self.traceparent.encode()))
        return headers


class InvalidEnvelope(ValueError):
    """A record whose headers are not a CloudEvents binary-mode envelope."""


RawHeaders = Sequence[tuple[str, str | bytes | None]] | Mapping[str, str | bytes | None]
"""Headers as librdkafka hands them over (a list of pairs from a consumed record)."""


def headers_dict(headers: RawHeaders | None) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    return {k: v.decode(errors="replace") if isinstance(v, bytes) else (v or "") for k, v in pairs}


def strict_headers_dict(headers: RawHeaders | None) -> dict[str, str]:
    """Like `headers_dict`, but a value that is not UTF-8 is an InvalidEnvelope, not replaced:
    two different garbled ids must not read as one (the inbox would drop the second)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    result: dict[str, str] = {}
    for k, v in pairs:
        if isinstance(v, bytes):
            try:
                result[k] = v.decode()
            except UnicodeDecodeError as exc:
                raise InvalidEnvelope(f"header {k!r} is not UTF-8") from exc
        else:
            result[k] = v or ""
    return result


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


def parse_headers(headers: Mapping[str, str]) -> EventMeta:
    missing = [h for h in REQUIRED_HEADERS if not headers.get(h)]
    if missing:
        raise InvalidEnvelope(f"missing CloudEvents headers: {', '.join(missing)}")
    garbled = [h for h in (*REQUIRED_HEADERS, H_TRACEPARENT) if _has_control(headers.get(h) or "")]
    if garbled:
        raise InvalidEnvelope(f"control characters in CloudEvents headers: {', '.join(garbled)}")
    if headers[H_SPECVERSION] != SPEC_VERSION:
        raise InvalidEnvelope(f"unsupported ce_specversion {headers[H_SPECVERSION]!r}")
    try:
        time = datetime.fromisoformat(headers[H_TIME])
    except ValueError as exc:
        raise InvalidEnvelope(f"ce_time is not RFC 3339: {headers[H_TIME]!r}") from exc
    return EventMeta(
        id=headers[H_ID],
        type=headers[H_TYPE],
        source=headers[H_SOURCE],
        time=time,
        traceparent=headers.get(H_TRACEPARENT),
    )
