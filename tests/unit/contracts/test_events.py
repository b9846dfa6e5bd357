"""The event contracts are exactly the seeds' (Messaging document): names, fields, topics, keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from paysaga.contracts import events
from paysaga.contracts.cloudevents import EventMeta, InvalidEnvelope, headers_dict, parse_headers
from paysaga.contracts.generate import write_documents

pytestmark = pytest.mark.unit

SEED_FIELDS = {
    "PaymentInitiated": (
        "payment-events",
        "paymentId",
        {"paymentId", "walletId", "userId", "amount", "currency", "recipient", "createdAt"},
    ),
    "PaymentCompleted": ("payment-events", "paymentId", {"paymentId", "providerTxnId", "completedAt"}),
    "PaymentFailed": (
        "payment-events",
        "paymentId",
        {"paymentId", "providerTxnId", "errorCode", "completedAt"},
    ),
    "ProviderCallbackReceived": (
        "callback-events",
        "providerTxnId",
        {"providerTxnId", "status", "receivedAt"},
    ),
    "CustomerCreated": ("customer-events", "userId", {"userId", "currency", "createdAt"}),
}

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SAMPLES = {
    "PaymentInitiated": events.PaymentInitiated(
        payment_id="p1",
        wallet_id="w1",
        user_id="u1",
        amount=150_00,
        currency="RUB",
        recipient=events.Recipient(account_number="40817810099910004312", bank_bic="044525225", name="Ivan"),
        created_at=NOW,
    ),
    "PaymentCompleted": events.PaymentCompleted(payment_id="p1", provider_txn_id="t1", completed_at=NOW),
    "PaymentFailed": events.PaymentFailed(
        payment_id="p1", provider_txn_id=None, error_code="TIMEOUT", completed_at=NOW
    ),
    "ProviderCallbackReceived": events.ProviderCallbackReceived(
        provider_txn_id="t1", status="SUCCESS", received_at=NOW
    ),
    "CustomerCreated": events.CustomerCreated(user_id="u1", currency="RUB", created_at=NOW),
}


@pytest.mark.parametrize("name", sorted(SEED_FIELDS))
def test_wire_form_has_exactly_the_seed_fields_topic_and_key(name: str) -> None:
    topic, key_field, fields = SEED_FIELDS[name]
    event = SAMPLES[name]
    wire = json.loads(event.to_json())
    assert set(wire) == fields
    assert event.topic == topic
    assert event.key == wire[key_field]
    assert type(event).model_validate_json(event.to_json()) == event


def test_the_seed_events_are_all_there_and_wallet_topped_up_is_the_only_other_one() -> None:
    assert {e.type_name() for e in events.ALL_EVENTS} == set(SEED_FIELDS) | {"WalletToppedUp"}


def test_wallet_topped_up_on_the_wire() -> None:
    """PaySaga's own event (not a seed one), in the seeds' style: camelCase, amount in minor units."""
    event = events.WalletToppedUp(
        top_up_id="t1",
        wallet_id="w1",
        user_id="u1",
        amount=500_00,
        currency="RUB",
        balance_after=650_00,
        created_at=NOW,
    )
    wire = json.loads(event.to_json())
    assert wire == {
        "topUpId": "t1",
        "walletId": "w1",
        "userId": "u1",
        "amount": 500_00,
        "currency": "RUB",
        "balanceAfter": 650_00,
        "createdAt": "2026-11-22T10:00:00Z",
    }
    assert (event.topic, event.key) == ("wallet-events", "w1")
    assert events.WalletToppedUp.model_validate_json(event.to_json()) == event
    for bad in ({"amount": 0}, {"amount": 1.5}, {"balanceAfter": -1}, {"currency": "XTS"}, {"createdAt": "2026-11-22"}):
        with pytest.raises(ValidationError):
            events.WalletToppedUp.model_validate_json(json.dumps({**wire, **bad}))


def test_recipient_and_nullable_provider_txn_id_on_the_wire() -> None:
    wire = json.loads(SAMPLES["PaymentInitiated"].to_json())
    assert set(wire["recipient"]) == {"accountNumber", "bankBic", "name"}
    assert isinstance(wire["amount"], int)
    assert json.loads(SAMPLES["PaymentFailed"].to_json())["providerTxnId"] is None


@pytest.mark.parametrize(
    "bad",
    [
        {"userId": "u", "currency": "RUB"},  # missing createdAt
        {"userId": "u", "currency": "RUB", "createdAt": "2026-11-22T10:00:00"},  # naive time
        {"userId": "u", "currency": "ZZZ", "createdAt": "2026-11-22T10:00:00Z"},  # not ISO 4217
        {"userId": "u", "currency": "RUB", "createdAt": "2026-11-22T10:00:00Z", "extra": 1},  # unknown field
    ],
)
def test_invalid_payloads_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        events.CustomerCreated.model_validate_json(json.dumps(bad))


@pytest.mark.parametrize("code", ["XAU", "XDR", "XTS", "XXX"])
def test_iso_codes_that_are_not_money_are_rejected(code: str) -> None:
    with pytest.raises(ValidationError, match="not a currency"):
        events.CustomerCreated(user_id="u", currency=code, created_at=datetime.now(UTC))


@pytest.mark.parametrize("code", ["XAF", "XOF", "XCD", "XPF", "RUB"])
def test_real_currencies_are_accepted_even_starting_with_x(code: str) -> None:
    assert events.CustomerCreated(user_id="u", currency=code, created_at=datetime.now(UTC)).currency == code


def test_headers_dict_reads_every_shape_librdkafka_hands_over() -> None:
    expected = {"a": "x", "b": "", "c": "s", "d": "\ufffd"}
    assert headers_dict([("a", b"x"), ("b", None), ("c", "s"), ("d", b"\xff")]) == expected
    assert headers_dict({"a": b"x", "b": None, "c": "s", "d": b"\xff"}) == expected
    assert headers_dict(None) == {}


def test_amount_must_be_a_positive_integer() -> None:
    base = json.loads(SAMPLES["PaymentInitiated"].to_json())
    for amount in (0, -1, 1.5, "100"):
        with pytest.raises(ValidationError):
            events.PaymentInitiated.model_validate_json(json.dumps({**base, "amount": amount}))


def test_cloudevents_headers_round_trip() -> None:
    meta = EventMeta(
        id="e1",
        type="CustomerCreated",
        source="/paysaga/customer",
        time=NOW,
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    headers = headers_dict(meta.to_headers())
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_time"] == "2026-11-22T10:00:00Z"
    assert headers["content-type"] == "application/json"
    assert parse_headers(headers) == meta


@pytest.mark.parametrize("drop", ["ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion"])
def test_an_envelope_without_a_required_header_is_invalid(drop: str) -> None:
    headers = headers_dict(EventMeta(id="e1", type="T", source="/s", time=NOW).to_headers())
    del headers[drop]
    with pytest.raises(InvalidEnvelope):
        parse_headers(headers)


def test_checked_in_schemas_and_asyncapi_match_the_code() -> None:
    assert write_documents(check=True) == []
