"""The Ops service's pure rules: what a dead letter says, what a replay sends, filters, cursors,
operators' passwords."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from paysaga.services.ops.domain import (
    POSITIONS_CURSOR_PATTERN,
    REPLAY_HEADER,
    DeadLetter,
    DeadLetterFilter,
    InvalidCursor,
    UnknownTopic,
    WeakPassword,
    check_password,
    dead_letter_topics,
    decode_id_cursor,
    decode_positions,
    encode_id_cursor,
    encode_positions,
)

pytestmark = pytest.mark.unit


def dead_letter(**headers: str) -> DeadLetter:
    base = {
        "ce_id": "e-1",
        "ce_type": "PaymentCompleted",
        "ce_source": "/paysaga/payment",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "dlq_reason": "handler-failed",
        "dlq_error": "RaiseError: boom",
        "dlq_consumer_group": "notification",
        "dlq_original_topic": "payment-events",
        "dlq_original_partition": "3",
        "dlq_original_offset": "41",
        "dlq_failed_at": "2026-12-02T10:00:00+00:00",
        **headers,
    }
    return DeadLetter(
        topic="payment-events.dlq",
        partition=2,
        offset=7,
        timestamp=datetime(2026, 12, 2, tzinfo=UTC),
        key=b"pay-1",
        value=b'{"paymentId": "pay-1"}',
        headers=tuple((k, v.encode()) for k, v in base.items()),
    )


def test_a_dead_letter_names_its_reason_group_and_origin() -> None:
    record = dead_letter()
    assert (record.reason, record.consumer_group, record.error) == (
        "handler-failed",
        "notification",
        "RaiseError: boom",
    )
    assert (record.original_topic, record.original_partition, record.original_offset) == ("payment-events", 3, 41)
    assert (record.ce_type, record.ce_id, record.key_text) == ("PaymentCompleted", "e-1", "pay-1")
    assert record.value_json() == {"paymentId": "pay-1"}
    assert DeadLetter("t.dlq", 0, 0, None, None, b"\xff not json", ()).value_json() is None


def test_a_replay_sends_the_original_headers_and_names_the_replay() -> None:
    record = dead_letter()
    sent = dict(record.replay_headers(12))
    assert not [k for k in sent if k.startswith("dlq_")]
    assert sent["ce_id"] == b"e-1" and sent["traceparent"].startswith(b"00-")
    assert sent[REPLAY_HEADER] == b"12"
    # A record replayed before and dead-lettered again carries the new replay id only.
    again = replace(record, headers=(*record.headers, (REPLAY_HEADER, b"12")))
    assert [v for k, v in again.replay_headers(13) if k == REPLAY_HEADER] == [b"13"]


def test_filters_select_by_group_reason_type_and_key() -> None:
    record = dead_letter()
    assert DeadLetterFilter().matches(record)
    assert DeadLetterFilter(
        group="notification", reason="handler-failed", ce_type="PaymentCompleted", key="pay-1"
    ).matches(record)
    assert not DeadLetterFilter(group="wallet").matches(record)
    assert not DeadLetterFilter(reason="schema-invalid").matches(record)
    assert not DeadLetterFilter(ce_type="PaymentFailed").matches(record)
    assert not DeadLetterFilter(key="pay-2").matches(record)


def test_topics_are_named_by_the_original_or_the_dead_letter_topic() -> None:
    assert dead_letter_topics("payment-events") == ["payment-events.dlq"]
    assert dead_letter_topics("payment-events.dlq") == ["payment-events.dlq"]
    assert dead_letter_topics() == [
        "payment-events.dlq",
        "callback-events.dlq",
        "customer-events.dlq",
        "wallet-events.dlq",
    ]
    with pytest.raises(UnknownTopic):
        dead_letter_topics("secrets")


def test_cursors_round_trip_and_refuse_anything_else() -> None:
    positions = {("payment-events.dlq", 0): 5, ("payment-events.dlq", 11): 0, ("a_b-1.dlq", 2): 9}
    assert re.fullmatch(POSITIONS_CURSOR_PATTERN, encode_positions(positions))
    assert decode_positions(encode_positions(positions)) == positions
    for bad in ("", "not a cursor", "t:0", "t=5", "t:x=5", "t:0=5,", "t:0=-5", "a:b:0=5", "t:0=5\n"):
        with pytest.raises(InvalidCursor):
            decode_positions(bad)
    assert encode_id_cursor([9, 8, 7], 3) == "7" and encode_id_cursor([9, 8], 3) is None
    assert decode_id_cursor("7") == 7 and decode_id_cursor(None) is None
    for bad_id in ("-1", "\u0661", "1" * 19):  # not ASCII digits (ARABIC-INDIC ONE); past bigint
        with pytest.raises(InvalidCursor):
            decode_id_cursor(bad_id)


@pytest.mark.parametrize("password", ["short1", "onlyletterslong", "123456789012345", "aaaa1111aaaa1111"])
def test_weak_operator_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password(password)


def test_a_long_mixed_password_is_accepted() -> None:
    check_password("ops-pass-12345678")
