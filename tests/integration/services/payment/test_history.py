"""Payment's history, search and stuck payments against real PostgreSQL: each step the consumer and
the worker take is a `payment_history` row written in the step's own transaction, and the ops routes
read them back (the operators' identity only)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import PaymentInitiated, ProviderCallbackReceived, Recipient
from paysaga.contracts.identities import BFF
from paysaga.platform.consumer import Delivery
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import HandlerTransaction, UnitOfWork
from paysaga.services.payment import outcomes, repository
from paysaga.services.payment.app import build_app
from paysaga.services.payment.domain import Payment, Status, StepKind
from paysaga.services.payment.handlers import apply_callback, record_payment_handler
from paysaga.services.payment.history import state_view
from tests.integration.services.payment.fake_provider import FakeProvider
from tests.integration.services.payment.test_steps import (
    RECIPIENT,
    SETTINGS,
    SOURCE,
    FakeFraud,
    reloaded,
    steps,
    stored,
)
from tests.support.identity import TEST_KEYS

pytestmark = pytest.mark.integration


@pytest.fixture
async def ops(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = TEST_KEYS.protect(build_app(db, readiness={}), "payment")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://payment", auth=TEST_KEYS.auth("payment")
    ) as client:
        yield client


async def receive(db: Database) -> uuid.UUID:
    """PaymentInitiated through the consumer's handler, in its transaction."""
    payment_id = uuid.uuid4()
    event = PaymentInitiated(
        payment_id=str(payment_id),
        wallet_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        amount=15000,
        currency="RUB",
        recipient=Recipient.model_validate(RECIPIENT),
        created_at=datetime.now(UTC),
    )
    meta = EventMeta(id=str(uuid.uuid4()), type="PaymentInitiated", source="/paysaga/wallet", time=datetime.now(UTC))
    async with UnitOfWork(db, source=SOURCE) as uow:
        await record_payment_handler(SETTINGS, lambda: None)(
            event, HandlerTransaction(uow), Delivery(meta, "payment-events", 0, 0, str(payment_id))
        )
        await uow.commit()
    return payment_id


async def callback(db: Database, txn: str, status: str) -> str:
    event = ProviderCallbackReceived(provider_txn_id=txn, status=status, received_at=datetime.now(UTC))  # type: ignore[arg-type]
    meta = EventMeta(id=str(uuid.uuid4()), type="ProviderCallbackReceived", source="/t", time=datetime.now(UTC))
    async with UnitOfWork(db, source=SOURCE) as uow:
        await apply_callback(event, HandlerTransaction(uow), Delivery(meta, "callback-events", 0, 0, txn))
        await uow.commit()
    return meta.id


async def claimed(db: Database, payment_id: uuid.UUID) -> Payment:
    async with db.connection() as conn:
        [payment] = [
            p for p in await repository.claim_due(conn, limit=50, lease_seconds=60) if p.payment_id == payment_id
        ]
    return payment


async def test_every_step_is_a_line_of_the_payments_history(
    db: Database, provider: FakeProvider, ops: httpx.AsyncClient
) -> None:
    payment_id = await receive(db)
    worker = steps(db, provider.client, FakeFraud("allow"))
    checked = await worker.check_fraud(await claimed(db, payment_id))
    assert checked is not None
    provider.submit_status = 503
    await worker.submit(checked)
    provider.submit_status = 201
    await worker.submit(await reloaded(db, checked))
    txn = f"ptx_{payment_id}"
    first = await callback(db, txn, "SUCCESS")
    await callback(db, txn, "SUCCESS")  # the provider's duplicate

    async with db.connection() as conn:
        rows = await repository.history(conn, payment_id)
    assert [(r["kind"], r["from_status"], r["to_status"], r["attempt"]) for r in rows] == [
        ("received", None, "RECEIVED", None),
        ("fraud-check", "RECEIVED", "CHECKED", 1),
        ("submission", "CHECKED", "CHECKED", 1),
        ("submission", "CHECKED", "SUBMITTED", 2),
        ("callback", "SUBMITTED", "COMPLETED", None),
        ("callback", "COMPLETED", "COMPLETED", None),
    ]
    assert rows[2]["error"] == 'provider: HTTP 503: {"title": "no"}' and rows[2]["next_action_at"] is not None
    assert rows[2]["details"]["answer"] == "UNAVAILABLE" and rows[2]["details"]["latencyMs"] >= 0
    assert rows[3]["details"]["providerTxnId"] == txn
    assert rows[4]["details"] | {"receivedAt": None} == {
        "status": "SUCCESS",
        "eventId": first,
        "receivedAt": None,
        "effect": "final",
        "published": ["PaymentCompleted"],
    }
    assert rows[5]["details"]["effect"] == "duplicate"

    response = await ops.get(f"/v1/payments/{payment_id}/history")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["service"] == "payment" and body["paymentId"] == str(payment_id)
    assert [s["kind"] for s in body["steps"]] == [r["kind"] for r in rows]
    assert body["steps"][-2]["summary"] == "SUCCESS callback → COMPLETED"
    assert body["steps"][-1]["summary"] == "SUCCESS callback: a duplicate: the payment is already COMPLETED"
    assert body["steps"][1]["details"]["decision"] == "ALLOW"
    assert body["state"]["status"] == "COMPLETED" and body["state"]["final"] is True
    assert body["state"]["waitingFor"] is None and body["state"]["details"]["providerTxnId"] == txn


async def test_a_step_whose_transaction_rolls_back_leaves_no_line(db: Database) -> None:
    payment_id = await receive(db)
    async with UnitOfWork(db, source=SOURCE) as uow:
        payment = await repository.lock(uow.conn, payment_id)
        assert payment is not None
        with payment.step(StepKind.FRAUD_CHECK, datetime.now(UTC), decision="ALLOW"):
            payment.fraud_allowed(datetime.now(UTC))
        await outcomes.save(uow, payment)
        # not committed
    async with db.connection() as conn:
        assert [r["kind"] for r in await repository.history(conn, payment_id)] == ["received"]
        assert (await repository.get(conn, payment_id)).status is Status.RECEIVED  # type: ignore[union-attr]


async def test_an_unknown_payment_has_no_history_and_only_operators_may_ask(
    db: Database, ops: httpx.AsyncClient
) -> None:
    response = await ops.get(f"/v1/payments/{uuid.uuid4()}/history")
    assert response.status_code == 200 and response.json()["steps"] == [] and response.json()["state"] is None
    as_bff = await ops.get(f"/v1/payments/{uuid.uuid4()}/history", auth=TEST_KEYS.auth("payment", BFF))
    assert as_bff.status_code == 403


async def test_the_history_says_what_an_unfinished_payment_waits_for(
    db: Database, provider: FakeProvider, ops: httpx.AsyncClient
) -> None:
    payment = await stored(db, Status.SUBMITTED)
    body = (await ops.get(f"/v1/payments/{payment.payment_id}/history")).json()
    state = body["state"]
    assert (state["status"], state["final"], state["waitingFor"], state["nextAction"]) == (
        "SUBMITTED",
        False,
        "the provider's callback",
        "inquiry",
    )
    assert state["since"] is not None and state["deadlineAt"] is not None


async def test_search_by_each_field_newest_first_paged_by_cursor(
    db: Database, provider: FakeProvider, ops: httpx.AsyncClient
) -> None:
    made = [await stored(db, Status.RECEIVED) for _ in range(5)]
    submitted = await stored(db, Status.SUBMITTED)
    newest_first = [str(p.payment_id) for p in sorted([*made, submitted], key=lambda p: p.created_at, reverse=True)]

    page = (await ops.get("/v1/payments", params={"limit": 4})).json()
    assert [p["paymentId"] for p in page["items"]] == newest_first[:4]
    rest = (await ops.get("/v1/payments", params={"limit": 4, "cursor": page["nextCursor"]})).json()
    assert [p["paymentId"] for p in rest["items"]] == newest_first[4:] and rest["nextCursor"] is None

    async def found(**params: str) -> list[str]:
        response = await ops.get("/v1/payments", params=params)
        assert response.status_code == 200, response.text
        return [p["paymentId"] for p in response.json()["items"]]

    sid = str(submitted.payment_id)
    assert await found(paymentId=sid) == [sid]
    assert await found(userId=str(submitted.user_id)) == [sid]
    assert await found(providerTxnId=f"ptx_{sid}") == [sid]
    assert await found(status="SUBMITTED") == [sid]
    after = (made[2].created_at).isoformat()
    assert set(await found(createdFrom=after)) == {str(p.payment_id) for p in made[2:]} | {sid}
    assert await found(status="FAILED", errorCode="TIMEOUT") == []
    bad = await ops.get("/v1/payments", params={"cursor": "not-ours"})
    assert bad.status_code == 422


async def test_stuck_payments_are_grouped_by_where_they_stopped(
    db: Database, provider: FakeProvider, ops: httpx.AsyncClient
) -> None:
    old = [await stored(db, Status.SUBMITTED) for _ in range(3)]
    retrying = await stored(db, Status.CHECKED)
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE payments SET created_at = created_at - interval '1 hour' WHERE payment_id = ANY($1::uuid[])",
            [p.payment_id for p in [*old, retrying]],
        )
        await conn.execute("UPDATE payments SET attempts = 2 WHERE payment_id = $1", retrying.payment_id)
    await stored(db, Status.SUBMITTED)  # not old enough

    response = await ops.get("/v1/stuck-payments", params={"olderThanSeconds": 600, "samples": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 4
    groups = {(g["status"], g["waitingFor"]): g for g in body["groups"]}
    assert set(groups) == {
        ("SUBMITTED", "the provider's callback"),
        ("CHECKED", "the provider to accept the payout (retrying)"),
    }
    waiting = groups[("SUBMITTED", "the provider's callback")]
    assert (waiting["count"], waiting["nextAction"], len(waiting["samples"])) == (3, "inquiry", 2)
    assert waiting["samples"][0]["ageSeconds"] >= 3600
    assert groups[("CHECKED", "the provider to accept the payout (retrying)")]["samples"][0]["attempts"] == 2
    assert (await ops.get("/v1/stuck-payments", params={"olderThanSeconds": 7200})).json()["groups"] == []


async def test_the_history_of_a_timed_out_payment_asked_about_later(db: Database, provider: FakeProvider) -> None:
    """A payment failed at its deadline while the provider still processed it: its history shows
    the timeout; its state says the provider is still asked about the payout."""
    payment = await stored(db, Status.SUBMITTED, deadline_in=0.2)
    txn = f"ptx_{payment.payment_id}"
    provider.payouts[txn], provider.statuses[txn] = str(payment.payment_id), "PROCESSING"
    await asyncio.sleep(0.3)
    await steps(db, provider.client).inquire(payment)
    async with db.connection() as conn:
        rows = await repository.history(conn, payment.payment_id)
        after = await repository.get(conn, payment.payment_id)
    assert after is not None
    assert [(r["kind"], r["to_status"], r["error_code"]) for r in rows][-1] == ("inquiry", "FAILED", "TIMEOUT")
    state = state_view(after, rows)
    assert (state.final, state.waiting_for, state.next_action) == (
        True,
        "the provider to settle a payout that timed out",
        "late inquiry",
    )
    assert state.next_action_at is not None and state.next_action_at > datetime.now(UTC) + timedelta(seconds=1)
