"""The public payments API (SPEC §7): idempotency keys, validation, ETags, history, isolation."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import pytest

from tests.support.infra import Infra
from tests.support.platform import RunningPlatform
from tests.support.saga import BIC, Customer, check_invariants, new_account, register

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as c:
        yield c


@pytest.fixture
def customer(client: httpx.Client) -> Customer:
    return register(client, top_up=100_000)


def test_same_key_same_body_gives_the_same_answer_and_one_payment(customer: Customer) -> None:
    account, key = new_account(), str(uuid.uuid4())
    first = customer.pay(1_000, account, key=key)
    again = customer.pay(1_000, account, key=key)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert first.headers["location"] == again.headers["location"]
    customer.wait_final(first.json()["paymentId"])
    assert customer.settled_wallet()["balance"] == 100_000 - 1_000  # paid once


def test_same_key_other_body_is_422_and_changes_nothing(customer: Customer) -> None:
    account, key = new_account(), str(uuid.uuid4())
    assert customer.pay(1_000, account, key=key).status_code == 202
    other = customer.pay(2_000, account, key=key)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"].endswith("idempotency-conflict")


def test_concurrent_requests_with_one_key_make_one_payment(customer: Customer, platform: RunningPlatform) -> None:
    account, key = new_account(), str(uuid.uuid4())

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=platform.url("bff"), timeout=10) as c:
            return Customer(c, customer.user_id, customer.token).pay(1_000, account, key=key)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(8)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["paymentId"] for a in answers}) == 1
    customer.wait_final(answers[0].json()["paymentId"])
    assert customer.settled_wallet()["balance"] == 100_000 - 1_000


def test_the_idempotency_key_is_required(customer: Customer) -> None:
    body = {
        "amount": 100,
        "currency": "RUB",
        "recipient": {"accountNumber": new_account(), "bankBic": BIC, "name": "X"},
    }
    response = customer.client.post("/api/v1/payments", json=body, headers=customer.auth)
    assert response.status_code == 400
    assert response.json()["type"].endswith("idempotency-key-missing")


async def _wallet_footprint(infra: Infra, user_id: str) -> dict[str, object]:
    """What the Wallet's own database holds for the user's wallet: amounts, reservations, PaymentInitiated
    events in its outbox (its top-up's WalletToppedUp is there too, and not counted)."""
    conn = await asyncpg.connect(infra.dsns["wallet"])
    try:
        wallet = await conn.fetchrow(
            "SELECT wallet_id, balance, reserved FROM wallets WHERE user_id = $1", uuid.UUID(user_id)
        )
        assert wallet is not None
        wallet_id = wallet["wallet_id"]
        return {
            "amounts": (wallet["balance"], wallet["reserved"]),
            "reservations": await conn.fetchval("SELECT count(*) FROM reservations WHERE wallet_id = $1", wallet_id),
            "ledger": await conn.fetchval("SELECT count(*) FROM wallet_ledger WHERE wallet_id = $1", wallet_id),
            "outbox": await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_type = 'PaymentInitiated'"
                " AND convert_from(payload, 'UTF8')::jsonb->>'walletId' = $1",
                str(wallet_id),
            ),
        }
    finally:
        await conn.close()


async def test_insufficient_funds_is_422_with_no_event_and_frees_the_key(customer: Customer, infra: Infra) -> None:
    key = str(uuid.uuid4())
    account = new_account()
    before = await _wallet_footprint(infra, customer.user_id)
    response = customer.pay(100_001, account, key=key)
    assert response.status_code == 422
    assert response.json()["type"].endswith("insufficient-funds")
    # Nothing happened in the Wallet itself: no reservation, no ledger entry, no PaymentInitiated in its outbox.
    assert await _wallet_footprint(infra, customer.user_id) == before
    assert before["amounts"] == (100_000, 0) and before["reservations"] == 0 and before["outbox"] == 0
    wallet = customer.wallet()
    assert (wallet["balance"], wallet["reserved"], wallet["available"]) == (100_000, 0, 100_000)
    assert customer.client.get("/api/v1/payments", headers=customer.auth).json()["items"] == []
    # After a top-up the same key may be used again: the refusal changed nothing and was not stored.
    customer.top_up(1)
    assert customer.pay(100_001, account, key=key).status_code == 202


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": 10**14}, "amount"),
        ({"currency": "RUR"}, "currency"),
        ({"recipient": {"accountNumber": "40817810000000000000", "bankBic": BIC, "name": "X"}}, "recipient"),
        ({"recipient": {"accountNumber": "4081781000000000000", "bankBic": BIC, "name": "X"}}, "accountNumber"),
        ({"recipient": {"accountNumber": "40817810700000000001", "bankBic": "12345", "name": "X"}}, "bankBic"),
        ({"recipient": {"accountNumber": "40817810700000000001", "bankBic": BIC, "name": "   "}}, "name"),
        ({"recipient": {"accountNumber": "40817810700000000001", "bankBic": BIC, "name": "x" * 161}}, "name"),
    ],
)
def test_invalid_payments_are_problems_and_change_nothing(customer: Customer, change: dict, field: str) -> None:
    body = {
        "amount": 1_000,
        "currency": "RUB",
        "recipient": {"accountNumber": new_account(), "bankBic": BIC, "name": "Пётр"},
        **change,
    }
    response = customer.client.post(
        "/api/v1/payments", json=body, headers={**customer.auth, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("validation-error")
    assert any(field in [str(p) for p in e["location"]] for e in problem["errors"]), problem
    assert customer.wallet()["reserved"] == 0


def test_a_payment_in_another_currency_than_the_wallet_is_refused(customer: Customer) -> None:
    response = customer.pay(1_000, new_account("840"), currency="USD")  # a dollar account: the wallet refuses
    assert response.status_code == 422
    assert response.json()["type"].endswith("currency-mismatch")


@pytest.mark.parametrize(("code", "currency"), [("840", "RUB"), ("978", "RUB"), ("810", "USD"), ("643", "EUR")])
def test_an_account_in_another_currency_than_the_payment_is_refused(
    customer: Customer, code: str, currency: str
) -> None:
    response = customer.pay(1_000, new_account(code), currency=currency)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("validation-error")
    message = " ".join(e["message"] for e in problem["errors"])
    assert code in message and currency in message and "digits 6-8" in message, problem
    assert customer.wallet()["reserved"] == 0


@pytest.mark.parametrize("code", ["810", "643"])
def test_a_rouble_account_has_the_code_810_or_643(customer: Customer, code: str) -> None:
    response = customer.pay(1_000, new_account(code))
    assert response.status_code == 202, response.text


def test_etag_and_if_none_match(customer: Customer) -> None:
    pid = customer.pay(1_000, new_account()).json()["paymentId"]
    customer.wait_final(pid)
    first = customer.client.get(f"/api/v1/payments/{pid}", headers=customer.auth)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert "no-cache" in first.headers["cache-control"] and "private" in first.headers["cache-control"]
    again = customer.client.get(f"/api/v1/payments/{pid}", headers={**customer.auth, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag and again.content == b""
    stale = customer.client.get(f"/api/v1/payments/{pid}", headers={**customer.auth, "If-None-Match": '"stale"'})
    assert stale.status_code == 200


def test_a_user_sees_only_their_own_payments(customer: Customer, client: httpx.Client) -> None:
    pid = customer.pay(1_000, new_account()).json()["paymentId"]
    customer.wait_final(pid)
    other = register(client)
    response = client.get(f"/api/v1/payments/{pid}", headers=other.auth)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/payments", headers=other.auth).json() == {"items": [], "nextCursor": None}
    unknown = client.get(f"/api/v1/payments/{uuid.uuid4()}", headers=customer.auth)
    assert unknown.status_code == 404


def test_history_is_newest_first_paginated_and_filtered(customer: Customer, platform: RunningPlatform) -> None:
    sim = httpx.Client(base_url=platform.url("provider_sim"))
    declined = new_account()
    rules = sim.put("/_sim/rules", json={"rules": [{"accountNumber": declined, "outcome": "DECLINE"}]})
    assert rules.status_code == 200, rules.text
    try:
        ids = [customer.pay(100 + i, new_account()).json()["paymentId"] for i in range(4)]
        ids.append(customer.pay(999, declined).json()["paymentId"])
        for pid in ids:
            customer.wait_final(pid)
    finally:
        sim.delete("/_sim/rules")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = customer.client.get("/api/v1/payments", params=params, headers=customer.auth).json()
        assert len(page["items"]) <= 2
        seen += [item["paymentId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    failed = customer.client.get("/api/v1/payments", params={"status": "FAILED"}, headers=customer.auth).json()
    assert [i["paymentId"] for i in failed["items"]] == [ids[-1]]
    assert failed["items"][0]["errorCode"] == "PROVIDER_REJECTED"
    bad = customer.client.get("/api/v1/payments", params={"cursor": "garbage"}, headers=customer.auth)
    assert bad.status_code == 422


async def test_concurrent_payments_from_one_wallet_accept_exactly_the_affordable_ones(
    client: httpx.Client, platform: RunningPlatform, infra: Infra
) -> None:
    customer = register(client, top_up=10_000)
    attempts = 20
    start = threading.Barrier(attempts)  # every request leaves at once: they really race

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=platform.url("bff"), timeout=20) as c:
            racer = Customer(c, customer.user_id, customer.token)
            assert c.get("/api/v1/wallet", headers=racer.auth).status_code == 200  # connected, warmed up
            start.wait(timeout=60)
            return racer.pay(1_000, new_account())

    with ThreadPoolExecutor(attempts) as pool:
        answers = list(pool.map(attempt, range(attempts)))
    accepted = [a.json()["paymentId"] for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code == 422]
    assert len(accepted) == 10 and len(refused) == 10, [a.status_code for a in answers]
    assert all(a.json()["type"].endswith("insufficient-funds") for a in refused)
    # The accepted ones are exactly what the Wallet reserved for this wallet: 10 x 1,000 = all of it.
    wallet_db = await asyncpg.connect(infra.dsns["wallet"])
    try:
        reserved = {
            str(r["payment_id"]): r["amount"]
            for r in await wallet_db.fetch(
                "SELECT r.payment_id, r.amount FROM reservations r JOIN wallets w USING (wallet_id)"
                " WHERE w.user_id = $1",
                uuid.UUID(customer.user_id),
            )
        }
    finally:
        await wallet_db.close()
    assert reserved == dict.fromkeys(accepted, 1_000)
    for pid in accepted:
        assert customer.wait_final(pid)["status"] == "COMPLETED"
    wallet = customer.settled_wallet()
    assert (wallet["balance"], wallet["reserved"], wallet["available"]) == (0, 0, 0)
    history = customer.client.get("/api/v1/payments", params={"limit": 50}, headers=customer.auth).json()
    assert sorted(i["paymentId"] for i in history["items"]) == sorted(accepted)
    await check_invariants(infra, platform.url("provider_sim"), accepted)
