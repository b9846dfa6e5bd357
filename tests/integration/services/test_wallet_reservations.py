"""Wallet reserve / commit / release against the real database, raced by concurrent writers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from paysaga.contracts.banking import with_control_key
from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import PaymentCompleted, PaymentFailed
from paysaga.contracts.identities import BFF
from paysaga.platform.consumer import Delivery
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import HandlerTransaction, UnitOfWork
from paysaga.services.wallet import handlers, repository
from paysaga.services.wallet.app import build_app
from paysaga.services.wallet.domain import (
    MAX_AMOUNT,
    MAX_BALANCE,
    CurrencyMismatch,
    InsufficientFunds,
    ReservationConflict,
    ReservationStatus,
    TopUpConflict,
)
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

RECIPIENT = {"accountNumber": "40817810700000000001", "bankBic": "044525225", "name": "Иван"}


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    database = Database(infra.dsns["wallet"], min_size=2, max_size=30)
    await database.connect()
    yield database
    await database.close()


def uow(db: Database) -> UnitOfWork:
    return UnitOfWork(db, source="/test")


async def new_wallet(db: Database, balance: int) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with db.transaction() as conn:
        await repository.create_wallet(
            conn, wallet_id=uuid.uuid4(), user_id=user_id, currency="RUB", created_at=datetime.now(UTC)
        )
    if balance:
        await handlers.top_up(handlers.TopUp(uuid.uuid4(), user_id, balance), uow(db))
    return user_id


def reserve(user_id: uuid.UUID, amount: int, payment_id: uuid.UUID | None = None) -> handlers.ReserveFunds:
    return handlers.ReserveFunds(payment_id or uuid.uuid4(), user_id, amount, "RUB", RECIPIENT)


async def wallet_of(db: Database, user_id: uuid.UUID) -> tuple[int, int, int]:
    async with db.connection() as conn:
        w = await repository.find_by_user(conn, user_id)
    assert w is not None
    return w.balance, w.reserved, w.available


def delivery() -> Delivery:
    meta = EventMeta(id=str(uuid.uuid4()), type="x", source="/test", time=datetime.now(UTC))
    return Delivery(meta, "payment-events", 0, 0, None)


async def test_racing_reservations_never_overdraw(db: Database) -> None:
    user = await new_wallet(db, 10_000)
    results = await asyncio.gather(
        *(handlers.reserve_funds(reserve(user, 300), uow(db)) for _ in range(50)), return_exceptions=True
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(ok) == 33 and len(refused) == 17  # 33 * 300 = 9,900 <= 10,000 < 34 * 300
    assert await wallet_of(db, user) == (10_000, 9_900, 100)
    async with db.connection() as conn:
        events = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'PaymentInitiated' AND key = ANY($1::text[])",
            [str(r[0].payment_id) for r in ok],
        )
    assert events == 33


async def test_the_same_reservation_twice_reserves_once_and_a_changed_one_conflicts(db: Database) -> None:
    user = await new_wallet(db, 1_000)
    pid = uuid.uuid4()
    first, created = await handlers.reserve_funds(reserve(user, 400, pid), uow(db))
    again, created_again = await handlers.reserve_funds(reserve(user, 400, pid), uow(db))
    assert created and not created_again and first.payment_id == again.payment_id
    assert await wallet_of(db, user) == (1_000, 400, 600)
    with pytest.raises(ReservationConflict):
        await handlers.reserve_funds(reserve(user, 500, pid), uow(db))
    with pytest.raises(CurrencyMismatch):
        await handlers.reserve_funds(handlers.ReserveFunds(uuid.uuid4(), user, 1, "USD", RECIPIENT), uow(db))
    assert await wallet_of(db, user) == (1_000, 400, 600)


async def test_commit_and_release_apply_once(db: Database) -> None:
    user = await new_wallet(db, 1_000)
    paid, released = uuid.uuid4(), uuid.uuid4()
    await handlers.reserve_funds(reserve(user, 300, paid), uow(db))
    await handlers.reserve_funds(reserve(user, 200, released), uow(db))
    now = datetime.now(UTC)
    completed = PaymentCompleted(payment_id=str(paid), provider_txn_id="t", completed_at=now)
    failed = PaymentFailed(payment_id=str(released), provider_txn_id=None, error_code="TIMEOUT", completed_at=now)
    for _ in range(2):  # the second time is a redelivery with a new event id: still applied once
        async with uow(db) as u:
            await handlers.commit_reservation(completed, u, delivery())
            await handlers.release_reservation(failed, u, delivery())
            await u.commit()
    assert await wallet_of(db, user) == (700, 0, 700)
    # A conflicting outcome for a settled payment moves no money.
    async with uow(db) as u:
        await handlers.release_reservation(
            PaymentFailed(payment_id=str(paid), provider_txn_id="t", error_code="X", completed_at=now), u, delivery()
        )
        await u.commit()
    assert await wallet_of(db, user) == (700, 0, 700)
    async with db.connection() as conn:
        statuses = {
            r["payment_id"]: r["status"]
            for r in await conn.fetch(
                "SELECT payment_id, status FROM reservations WHERE payment_id = ANY($1)", [paid, released]
            )
        }
    assert statuses == {paid: ReservationStatus.COMMITTED.value, released: ReservationStatus.RELEASED.value}


async def test_racing_commits_and_reservations_keep_the_books(db: Database) -> None:
    user = await new_wallet(db, 5_000)
    pids = [uuid.uuid4() for _ in range(10)]
    for pid in pids:
        await handlers.reserve_funds(reserve(user, 100, pid), uow(db))

    async def commit(pid: uuid.UUID) -> None:
        async with uow(db) as u:
            event = PaymentCompleted(payment_id=str(pid), provider_txn_id="t", completed_at=datetime.now(UTC))
            await handlers.commit_reservation(event, u, delivery())
            await u.commit()

    results = await asyncio.gather(
        *(commit(p) for p in pids),
        *(handlers.reserve_funds(reserve(user, 500), uow(db)) for _ in range(10)),
        return_exceptions=True,
    )
    commits, reservations = results[:10], results[10:]
    assert commits == [None] * 10
    # A commit moves money from reserved out of the balance: the available 4,000 never changes,
    # whatever the interleaving, so exactly 8 reservations of 500 fit and 2 are refused.
    made = [r for r in reservations if not isinstance(r, BaseException)]
    refused = [r for r in reservations if isinstance(r, InsufficientFunds)]
    assert (len(made), len(refused)) == (8, 2), reservations
    assert await wallet_of(db, user) == (4_000, 8 * 500, 0)  # ten payouts of 100 left; all the rest reserved
    async with db.connection() as conn:
        statuses = await conn.fetch(
            "SELECT r.status, count(*) AS n, sum(r.amount) AS amount FROM reservations r"
            " JOIN wallets w USING (wallet_id) WHERE w.user_id = $1 GROUP BY r.status",
            user,
        )
    assert {r["status"]: (r["n"], r["amount"]) for r in statuses} == {
        ReservationStatus.COMMITTED.value: (10, 1_000),
        ReservationStatus.RESERVED.value: (8, 4_000),
    }


async def test_two_batches_settling_the_same_wallets_in_opposite_orders_do_not_deadlock(db: Database) -> None:
    """Two consumer instances' batches, each settling a payment of wallet A and one of wallet B, in
    opposite orders, each pausing between its records: taken in record order, the wallets' row locks
    deadlock (PostgreSQL aborts one batch); locked first in one order (the consumer's before_batch
    hook), the second batch waits for the first and both apply."""
    a, b = await new_wallet(db, 1_000), await new_wallet(db, 1_000)
    a1, a2, b1, b2 = (uuid.uuid4() for _ in range(4))
    for user, pid in ((a, a1), (a, a2), (b, b1), (b, b2)):
        await handlers.reserve_funds(reserve(user, 100, pid), uow(db))

    def completed(pid: uuid.UUID) -> PaymentCompleted:
        return PaymentCompleted(payment_id=str(pid), provider_txn_id="t", completed_at=datetime.now(UTC))

    async def batch(pids: tuple[uuid.UUID, uuid.UUID]) -> None:
        events = [completed(pid) for pid in pids]
        async with uow(db) as u:
            tx = HandlerTransaction(u)
            await handlers.lock_settled_wallets(tx, events)
            await handlers.commit_reservation(events[0], tx, delivery())
            await asyncio.sleep(0.3)  # the other batch takes its first record's wallet meanwhile
            await handlers.commit_reservation(events[1], tx, delivery())
            await u.commit()

    await asyncio.wait_for(asyncio.gather(batch((a1, b1)), batch((b2, a2))), 30)
    assert await wallet_of(db, a) == (800, 0, 800)
    assert await wallet_of(db, b) == (800, 0, 800)


async def test_top_ups_are_idempotent_per_id(db: Database) -> None:
    user = await new_wallet(db, 0)
    top_up_id = uuid.uuid4()
    await handlers.top_up(handlers.TopUp(top_up_id, user, 700), uow(db))
    await handlers.top_up(handlers.TopUp(top_up_id, user, 700), uow(db))
    assert await wallet_of(db, user) == (700, 0, 700)
    with pytest.raises(TopUpConflict):
        await handlers.top_up(handlers.TopUp(top_up_id, user, 800), uow(db))


@pytest.mark.parametrize("balance", [MAX_BALANCE - 5, 2**63 - MAX_AMOUNT // 2])
async def test_a_top_up_that_would_overflow_the_balance_is_a_422_and_changes_nothing(
    db: Database, balance: int
) -> None:
    user = await new_wallet(db, 0)
    async with db.transaction() as conn:  # a wallet already near the limit (or the bigint column's end)
        await conn.execute("UPDATE wallets SET balance = $1 WHERE user_id = $2", balance, user)
    try:
        app = build_app(db, lambda: uow(db), readiness={})
        TEST_KEYS.protect(app, "wallet")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://wallet", auth=TEST_KEYS.auth("wallet", BFF)
        ) as http:
            response = await http.post(
                f"/v1/users/{user}/top-ups", json={"topUpId": str(uuid.uuid4()), "amount": MAX_AMOUNT}
            )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("balance-limit-exceeded")
        assert await wallet_of(db, user) == (balance, 0, balance)
        async with db.connection() as conn:
            wallet_id = await conn.fetchval("SELECT wallet_id FROM wallets WHERE user_id = $1", user)
            assert await conn.fetchval("SELECT count(*) FROM top_ups WHERE wallet_id = $1", wallet_id) == 0
    finally:
        # Money that no top-up brought: gone again, or the e2e books (top-ups = balances + payouts) break.
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM wallets WHERE user_id = $1 AND reserved = 0", user)


async def test_a_reservation_to_an_account_in_another_currency_is_a_422_and_changes_nothing(db: Database) -> None:
    user = await new_wallet(db, 5_000)
    dollar_account = {**RECIPIENT, "accountNumber": with_control_key("40817840700000000001", RECIPIENT["bankBic"])}
    app = build_app(db, lambda: uow(db), readiness={})
    TEST_KEYS.protect(app, "wallet")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://wallet", auth=TEST_KEYS.auth("wallet", BFF)
    ) as http:
        response = await http.post(
            f"/v1/users/{user}/reservations",
            json={"paymentId": str(uuid.uuid4()), "amount": 1_000, "currency": "RUB", "recipient": dollar_account},
        )
    assert response.status_code == 422, response.text
    assert "digits 6-8" in response.json()["detail"]
    assert await wallet_of(db, user) == (5_000, 0, 5_000)
