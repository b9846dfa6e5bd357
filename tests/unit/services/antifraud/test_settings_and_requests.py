"""Anti-Fraud settings from the environment, and how a gRPC request becomes a payment to check."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from paysaga.contracts.protos import antifraud_pb2
from paysaga.services.antifraud.grpc_server import InvalidRequest, payment_from_request
from paysaga.services.antifraud.settings import AntiFraudSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("ANTIFRAUD_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults(clean_env: pytest.MonkeyPatch) -> None:
    s = AntiFraudSettings()
    assert (s.host, s.port, s.grpc_host, s.grpc_port) == ("127.0.0.1", 8006, "127.0.0.1", 50051)
    assert s.consumer_group == "anti-fraud"
    limits = s.limits()
    assert limits.amount_limit == 100_000_000
    assert limits.window == timedelta(hours=1)
    assert (limits.max_count, limits.max_sum) == (100, 500_000_000)
    assert s.blocklist_seed_accounts == []


def test_environment_overrides(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ANTIFRAUD_GRPC_PORT", "6000")
    clean_env.setenv("ANTIFRAUD_AMOUNT_LIMIT", "5")
    clean_env.setenv("ANTIFRAUD_VELOCITY_WINDOW_SECONDS", "60")
    clean_env.setenv("ANTIFRAUD_BLOCKLIST_SEED", " 40817810099910004312 ,,40702810900000000001,40817810099910004312")
    s = AntiFraudSettings()
    assert s.grpc_port == 6000
    assert s.limits().amount_limit == 5 and s.limits().window == timedelta(seconds=60)
    assert s.blocklist_seed_accounts == ["40702810900000000001", "40817810099910004312"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("ANTIFRAUD_BLOCKLIST_SEED", "12345"), ("ANTIFRAUD_VELOCITY_MAX_COUNT", "0"), ("ANTIFRAUD_AMOUNT_LIMIT", "-1")],
)
def test_invalid_settings_fail_at_start(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError):
        AntiFraudSettings()


def request(**overrides: object) -> antifraud_pb2.CheckRequest:
    fields: dict[str, Any] = {
        "payment_id": "p-1",
        "user_id": "u-1",
        "wallet_id": "w-1",
        "amount": 1000,
        "currency": "RUB",
        "recipient": antifraud_pb2.Recipient(account_number="40817810099910004312", bank_bic="044525225", name="I"),
    }
    fields.update(overrides)
    return antifraud_pb2.CheckRequest(**fields)


def test_a_request_becomes_a_payment_with_its_creation_time() -> None:
    created = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    req = request()
    req.created_at.FromDatetime(created)
    p = payment_from_request(req)
    assert (p.payment_id, p.user_id, p.amount, p.currency) == ("p-1", "u-1", 1000, "RUB")
    assert p.account_number == "40817810099910004312"
    assert p.created_at == created
    assert payment_from_request(request()).created_at is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"payment_id": ""}, "payment_id is required"),
        ({"user_id": " "}, "user_id is required"),
        ({"wallet_id": "w" * 201}, "wallet_id is longer"),
        ({"amount": 0}, "amount must be positive"),
        ({"amount": -5}, "amount must be positive"),
        ({"currency": "rub"}, "currency must be"),
        ({"recipient": antifraud_pb2.Recipient()}, "recipient.account_number is required"),
    ],
)
def test_malformed_requests_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message.replace("must be positive", "must be a positive")):
        payment_from_request(request(**overrides))
