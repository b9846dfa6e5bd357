"""Wallet top-ups reach Kafka as WalletToppedUp through the outbox, once per top-up, whatever the relay
does; and the ops reads a reconciliation needs (totals per currency, settlements by time). On a scratch
Wallet database, so the relay publishes only this file's rows and the totals are exact."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from jsonschema import Draft202012Validator

from paysaga.contracts.cloudevents import EventMeta, parse_headers
from paysaga.contracts.events import PaymentCompleted, PaymentFailed, WalletToppedUp
from paysaga.contracts.generate import SCHEMA_DIR
from paysaga.contracts.topics import WALLET_EVENTS
from paysaga.devstack.postgres import ensure_databases
from paysaga.platform.consumer import Delivery
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.migrations import upgrade
from paysaga.platform.relay import OutboxRelay
from paysaga.platform.settings import service_database_url
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.wallet import handlers, repository
from paysaga.services.wallet.app import build_app
from paysaga.services.wallet.domain import MAX_BALANCE, BalanceLimitExceeded
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra
from tests.support.kafka import Record, read_topic

pytestmark = pytest.mark.integration

SOURCE = "/paysaga/wallet"
RECIPIENT = {"accountNumber": "40817810700000000001", "bankBic": "044525225", "name": "Иван"}


@pytest.fixture(scope="module")
async def dsn(infra: Infra) -> str:
    await ensure_databases(infra.admin_url, ["paysaga_wallettopups"], recreate=True)
    url = service_database_url(infra.admin_url, "wallettopups")
    await asyncio.to_thread(upgrade, "wallet", url)
    return url


@pytest.fixture
async def db(dsn: str) -> AsyncIterator[Database]:
    database = Database(dsn, min_size=1, max_size=10)
    await database.connect()
    async with database.connection() as conn:  # each test starts from no wallets and nothing pending
        await conn.execute("TRUNCATE outbox, inbox, wallet_ledger, top_ups, reservations, wallets")
    yield database
    await database.close()


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(db, lambda: UnitOfWork(db, source=SOURCE), readiness={})
    TEST_KEYS.protect(app, "wallet")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://wallet", auth=TEST_KEYS.auth("wallet")
    ) as client:
        yield client


async def new_wallet(db: Database, currency: str = "RUB") -> tuple[uuid.UUID, uuid.UUID]:
    """(user id, wallet id) of a new empty wallet."""
    user_id, wallet_id = uuid.uuid4(), uuid.uuid4()
    async with db.transaction() as conn:
        await repository.create_wallet(
            conn, wallet_id=wallet_id, user_id=user_id, currency=currency, created_at=datetime.now(UTC)
        )
    return user_id, wallet_id


async def top_up(db: Database, user_id: uuid.UUID, amount: int, top_up_id: uuid.UUID | None = None) -> uuid.UUID:
    top_up_id = top_up_id or uuid.uuid4()
    await handlers.top_up(handlers.TopUp(top_up_id, user_id, amount), UnitOfWork(db, source=SOURCE))
    return top_up_id


async def outbox_rows(db: Database) -> list[dict]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT event_id::text, event_type, key, payload, published_at FROM outbox ORDER BY id")
    return [{**r, "payload": json.loads(bytes(r["payload"]))} for r in rows]


def on_topic(infra: Infra, wallet_id: uuid.UUID) -> list[Record]:
    return [r for r in read_topic(infra.kafka, WALLET_EVENTS) if r.key == str(wallet_id)]


def run_relay_process(infra: Infra, dsn: str, failpoint: str | None = None, timeout: float = 30) -> int:
    """`paysaga relay` on the scratch database; with a failpoint it dies as kill -9 would (exit 137)."""
    env = {**os.environ, **infra.kafka.environment(), "PAYSAGA_LOG_FORMAT": "json"}
    if failpoint:
        env["PAYSAGA_FAILPOINTS"] = failpoint
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysaga.cli", "relay", "--dsn", dsn],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        return proc.wait(10)


async def publish_pending(infra: Infra, db: Database) -> int:
    producer = KafkaProducer(infra.kafka, client_id="test-wallet-relay")
    try:
        relay = OutboxRelay(db, producer)
        await relay.publish_pending()
        return relay.published
    finally:
        await producer.close()


async def test_a_top_up_writes_wallet_topped_up_with_it_and_a_repeat_writes_nothing(db: Database) -> None:
    user_id, wallet_id = await new_wallet(db, "USD")
    top_up_id = await top_up(db, user_id, 1_500)
    await top_up(db, user_id, 1_500, top_up_id)  # the same top-up again (a client retry): no second event
    second = await top_up(db, user_id, 250)
    rows = await outbox_rows(db)
    assert [(r["event_type"], r["key"]) for r in rows] == [("WalletToppedUp", str(wallet_id))] * 2
    first = rows[0]["payload"]
    assert {k: v for k, v in first.items() if k != "createdAt"} == {
        "topUpId": str(top_up_id),
        "walletId": str(wallet_id),
        "userId": str(user_id),
        "amount": 1_500,
        "currency": "USD",
        "balanceAfter": 1_500,
    }
    assert (rows[1]["payload"]["topUpId"], rows[1]["payload"]["balanceAfter"]) == (str(second), 1_750)
    async with db.connection() as conn:
        created = await conn.fetchval("SELECT created_at FROM top_ups WHERE top_up_id = $1", top_up_id)
    assert WalletToppedUp.model_validate(first).created_at == created


async def test_a_refused_top_up_writes_no_event(db: Database) -> None:
    user_id, _ = await new_wallet(db)
    await top_up(db, user_id, MAX_BALANCE)
    with pytest.raises(BalanceLimitExceeded):
        await top_up(db, user_id, 1)
    assert len(await outbox_rows(db)) == 1


async def test_a_relay_crash_before_publishing_loses_nothing_and_sends_it_once(
    db: Database, dsn: str, infra: Infra
) -> None:
    user_id, wallet_id = await new_wallet(db)
    top_up_ids = [await top_up(db, user_id, amount) for amount in (100, 200, 300)]

    # The relay process dies (as kill -9 would) after reading the rows, before sending them.
    assert await asyncio.to_thread(run_relay_process, infra, dsn, "relay.before_publish") == 137
    assert all(r["published_at"] is None for r in await outbox_rows(db))
    assert await asyncio.to_thread(on_topic, infra, wallet_id) == []

    # The next relay pass sends each exactly once, in the order of the top-ups (one key, one partition).
    assert await publish_pending(infra, db) == 3
    assert await publish_pending(infra, db) == 0  # and never again
    records = await asyncio.to_thread(on_topic, infra, wallet_id)
    rows = await outbox_rows(db)
    assert [r.headers["ce_id"] for r in records] == [r["event_id"] for r in rows]
    assert [r.json["topUpId"] for r in records] == [str(t) for t in top_up_ids]
    assert [r.json["balanceAfter"] for r in records] == [100, 300, 600]
    schema = Draft202012Validator(json.loads((SCHEMA_DIR / "WalletToppedUp.json").read_text()))
    for record in records:
        schema.validate(record.json)
        meta = parse_headers(record.headers)
        assert (meta.type, meta.source) == ("WalletToppedUp", SOURCE)


async def test_a_relay_crash_after_publishing_repeats_it_with_the_same_event_id(
    db: Database, dsn: str, infra: Infra
) -> None:
    """Kafka has the record, the row is not marked: it goes again with the same ce_id, which Core
    Banking's inbox drops (tests/integration/services/core_banking/test_top_ups.py)."""
    user_id, wallet_id = await new_wallet(db)
    await top_up(db, user_id, 4_200)
    assert await asyncio.to_thread(run_relay_process, infra, dsn, "relay.after_publish") == 137
    assert await publish_pending(infra, db) == 1
    records = await asyncio.to_thread(on_topic, infra, wallet_id)
    (row,) = await outbox_rows(db)
    assert [r.headers["ce_id"] for r in records] == [row["event_id"]] * 2
    assert row["published_at"] is not None


# --- ops reads for reconciliation -----------------------------------------------------------------


async def settle(db: Database, event: PaymentCompleted | PaymentFailed) -> None:
    """Apply a final payment event as Wallet's consumer does (in one transaction), without Kafka."""
    meta = EventMeta(id=str(uuid.uuid4()), type=event.type_name(), source="/test", time=datetime.now(UTC))
    delivery = Delivery(meta, event.topic, 0, 0, event.key)
    async with UnitOfWork(db, source=SOURCE) as uow:
        if isinstance(event, PaymentCompleted):
            await handlers.commit_reservation(event, uow, delivery)
        else:
            await handlers.release_reservation(event, uow, delivery)
        await uow.commit()


async def reserve(db: Database, user_id: uuid.UUID, amount: int) -> str:
    payment_id = uuid.uuid4()
    await handlers.reserve_funds(
        handlers.ReserveFunds(payment_id, user_id, amount, "RUB", RECIPIENT), UnitOfWork(db, source=SOURCE)
    )
    return str(payment_id)


async def test_balances_sum_every_wallet_per_currency_reserved_money_included(
    db: Database, http: httpx.AsyncClient
) -> None:
    assert (await http.get("/v1/balances")).json()["currencies"] == []
    ann, _ = await new_wallet(db, "RUB")
    bob, _ = await new_wallet(db, "RUB")
    sam, _ = await new_wallet(db, "USD")
    await new_wallet(db, "EUR")  # holds nothing
    await top_up(db, ann, 10_000)
    await top_up(db, bob, 5_000)
    await top_up(db, sam, 700)
    paid = await reserve(db, ann, 3_000)
    failed = await reserve(db, bob, 1_000)
    await reserve(db, ann, 500)  # still open: reserved, still in the balance
    now = datetime.now(UTC)
    await settle(db, PaymentCompleted(payment_id=paid, provider_txn_id="t1", completed_at=now))
    await settle(db, PaymentFailed(payment_id=failed, provider_txn_id=None, error_code="TIMEOUT", completed_at=now))

    response = await http.get("/v1/balances")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currencies"] == [
        {"currency": "EUR", "wallets": 1, "balance": 0, "reserved": 0, "available": 0},
        {"currency": "RUB", "wallets": 2, "balance": 12_000, "reserved": 500, "available": 11_500},
        {"currency": "USD", "wallets": 1, "balance": 700, "reserved": 0, "available": 700},
    ]
    assert datetime.fromisoformat(body["asOf"]) - now < timedelta(seconds=30)


async def test_settlements_by_time_range_paged_oldest_first(db: Database, http: httpx.AsyncClient) -> None:
    user_id, wallet_id = await new_wallet(db)
    await top_up(db, user_id, 100_000)
    start = datetime.now(UTC)
    outcomes: dict[str, str] = {}
    for i in range(5):
        pid = await reserve(db, user_id, 1_000 + i)
        now = datetime.now(UTC)
        if i % 2:
            await settle(db, PaymentFailed(payment_id=pid, provider_txn_id=None, error_code="X", completed_at=now))
            outcomes[pid] = "RELEASED"
        else:
            await settle(db, PaymentCompleted(payment_id=pid, provider_txn_id=f"t{i}", completed_at=now))
            outcomes[pid] = "COMMITTED"
    open_payment = await reserve(db, user_id, 9)  # not settled: not listed
    end = datetime.now(UTC) + timedelta(seconds=1)

    seen: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "limit": "2",
            **({"cursor": cursor} if cursor else {}),
        }
        response = await http.get("/v1/settlements", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert {i["paymentId"]: i["status"] for i in seen} == outcomes
    assert open_payment not in {i["paymentId"] for i in seen}
    assert [i["settledAt"] for i in seen] == sorted(i["settledAt"] for i in seen)
    assert {(i["walletId"], i["currency"]) for i in seen} == {(str(wallet_id), "RUB")}
    assert {i["amount"] for i in seen} == {1_000, 1_001, 1_002, 1_003, 1_004}

    # The range is half-open, and a window before them all is empty.
    last = max(datetime.fromisoformat(i["settledAt"]) for i in seen)
    upto_last = await http.get("/v1/settlements", params={"from": start.isoformat(), "to": last.isoformat()})
    assert len(upto_last.json()["items"]) == 4
    before = await http.get(
        "/v1/settlements", params={"from": (start - timedelta(hours=1)).isoformat(), "to": start.isoformat()}
    )
    assert before.json() == {"items": [], "nextCursor": None}


@pytest.mark.parametrize(
    "params",
    [
        {"to": "2026-12-01T00:00:00Z"},  # no start
        {"from": "2026-12-01T00:00:00", "to": "2026-12-02T00:00:00Z"},  # a time without its offset
        {"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z", "cursor": "not-ours"},
        {"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z", "limit": "0"},
    ],
)
async def test_settlements_refuse_a_bad_query_with_a_problem(http: httpx.AsyncClient, params: dict) -> None:
    response = await http.get("/v1/settlements", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
