"""Payment's `GET /v1/finals`: the payments that became final in a time range, oldest first, paged,
for the reconciliation with Wallet's settlements (scratch database: conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from paysaga.platform.db import Database
from paysaga.services.payment import repository
from paysaga.services.payment.app import build_app
from paysaga.services.payment.domain import Payment
from tests.support.identity import TEST_KEYS

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
RECIPIENT = {"accountNumber": "40817810700000000001", "bankBic": "044525225", "name": "Ivan Petrov"}


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(db, readiness={})
    TEST_KEYS.protect(app, "payment")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://payment", auth=TEST_KEYS.auth("payment")
    ) as client:
        yield client


async def stored(db: Database, outcome: str, final_at: datetime | None, amount: int = 100) -> str:
    """A payment that ended `outcome` (COMPLETED, FRAUD, DECLINED) at `final_at`, or is still open (None)."""
    start = (final_at or T0) - timedelta(seconds=5)
    payment = Payment.receive(
        payment_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        wallet_id=uuid.uuid4(),
        amount=amount,
        currency="RUB",
        recipient=RECIPIENT,
        created_at=start,
        now=start,
        deadline_seconds=300,
    )
    if outcome == "FRAUD" and final_at is not None:
        payment.fraud_denied(final_at)
    elif final_at is not None:
        payment.fraud_allowed(start)
        if outcome == "DECLINED":
            payment.declined(final_at)
        else:
            payment.accepted(f"ptx_{payment.payment_id.hex}", start, inquiry_after_seconds=30)
            payment.provider_answered("SUCCESS", final_at, confirmed=True)
    async with db.connection() as conn:
        assert await repository.add(conn, payment, payment.take_steps())
    return str(payment.payment_id)


async def all_pages(http: httpx.AsyncClient, start: datetime, end: datetime, limit: int) -> tuple[list[dict], int]:
    items: list[dict] = []
    cursor, pages = None, 0
    while True:
        params = {"from": start.isoformat(), "to": end.isoformat(), "limit": str(limit)}
        response = await http.get("/v1/finals", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        pages += 1
        if (cursor := body["nextCursor"]) is None:
            return items, pages


async def test_the_finals_of_a_time_range_oldest_first_paged(db: Database, http: httpx.AsyncClient) -> None:
    completed = await stored(db, "COMPLETED", T0 + timedelta(seconds=1), amount=111)
    fraud = await stored(db, "FRAUD", T0 + timedelta(seconds=2))
    declined = await stored(db, "DECLINED", T0 + timedelta(seconds=3))
    same_time = [await stored(db, "COMPLETED", T0 + timedelta(seconds=4)) for _ in range(3)]  # ties: by id
    await stored(db, "COMPLETED", T0 - timedelta(seconds=1))  # before the range
    await stored(db, "COMPLETED", T0 + timedelta(minutes=1))  # at its end: excluded (half-open)
    await stored(db, "OPEN", None)  # not final: never listed

    items, pages = await all_pages(http, T0, T0 + timedelta(minutes=1), limit=2)

    assert pages == 3
    assert [i["paymentId"] for i in items] == [completed, fraud, declined, *sorted(same_time)]
    assert [(i["status"], i["errorCode"]) for i in items[:3]] == [
        ("COMPLETED", None),
        ("FAILED", "FRAUD_SUSPECTED"),
        ("FAILED", "PROVIDER_REJECTED"),
    ]
    assert (items[0]["amount"], items[0]["currency"]) == (111, "RUB")
    assert datetime.fromisoformat(items[0]["completedAt"]) == T0 + timedelta(seconds=1)
    one_page, _ = await all_pages(http, T0, T0 + timedelta(minutes=1), limit=1000)
    assert one_page == items


async def test_a_bad_cursor_or_range_is_a_problem(http: httpx.AsyncClient) -> None:
    for params in (
        {"from": T0.isoformat()},
        {"from": "2026-12-01T10:00:00", "to": T0.isoformat()},
        {"from": T0.isoformat(), "to": T0.isoformat(), "cursor": "eyJ4Ijoi"},
    ):
        response = await http.get("/v1/finals", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
