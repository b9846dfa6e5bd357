"""Read your own writes (docs/architecture.md): the BFF's history lists the payments it accepted
that the read model does not have yet, as GET /payments/{id} shows them. The BFF runs in-process on
its real database; the Query service's real app serves its real database over HTTP, with no
consumer: the read model is late for certain, and catches up only when the test writes it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from paysaga.platform.db import Database
from paysaga.services.bff.app import build_app as build_bff
from paysaga.services.bff.auth import TokenIssuer
from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.idempotency import IdempotencyStore
from paysaga.services.bff.repository import KeyRecord
from paysaga.services.bff.throttle import AuthThrottle
from paysaga.services.query import repository as read_model
from paysaga.services.query.app import build_app as build_query
from tests.support.db import connected
from tests.support.identity import Keyring
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

RECIPIENT = {"accountNumber": "40817810000000000001", "bankBic": "044525225", "name": "Пётр Сидоров"}
NOWHERE = "http://127.0.0.1:9"  # the Customer and Wallet services: not called by these routes


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # leave pytest's signal handlers alone


@dataclass
class Bff:
    client: httpx.AsyncClient
    keys: IdempotencyStore
    tokens: TokenIssuer
    query_db: Database


@pytest.fixture
async def bff(infra: Infra) -> AsyncIterator[Bff]:
    keyring = Keyring()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    async with connected(infra.dsns["bff"], max_size=5) as bff_db, connected(infra.dsns["query"], max_size=5) as q_db:
        query_app = keyring.protect(build_query(q_db, readiness={}), "query")
        server = _Server(uvicorn.Config(query_app, lifespan="off", log_config=None, access_log=False))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            assert not task.done(), task.result()
            await asyncio.sleep(0.01)
        identity = keyring.identity("bff")
        host, port = sock.getsockname()
        query = Downstream("query", f"http://{host}:{port}", 5, identity)
        tokens = TokenIssuer("read-your-writes-test-secret-0123456789abcdef", 900)
        keys = IdempotencyStore(bff_db)
        deps = BffDeps(
            tokens=tokens,
            customer=Downstream("customer", NOWHERE, 1, identity),
            wallet=Downstream("wallet", NOWHERE, 1, identity),
            query=query,
            keys=keys,
            throttle=AuthThrottle(bff_db),
        )
        transport = httpx.ASGITransport(app=build_bff(deps, readiness={}))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://bff") as client:
                yield Bff(client, keys, tokens, q_db)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)
            await query.close()


class User:
    def __init__(self, bff: Bff) -> None:
        self.bff = bff
        self.id = str(uuid.uuid4())
        self.auth = {"Authorization": f"Bearer {bff.tokens.issue(self.id)}"}

    async def accepted(self, amount: int) -> KeyRecord:
        """A payment the BFF accepted: what POST /payments stores once the Wallet has reserved."""
        body = {"amount": amount, "currency": "RUB", "recipient": RECIPIENT}

        async def reserved(payment_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
            return 202, {"paymentId": str(payment_id), "status": "PENDING"}

        answer = await self.bff.keys.run_once(self.id, "payment", str(uuid.uuid4()), body, reserved)
        record = await self.bff.keys.find_resource(self.id, "payment", answer.resource_id)
        assert record is not None
        return record

    async def projected(self, record: KeyRecord, *, later: timedelta = timedelta(microseconds=1)) -> None:
        """The read model catches up with the payment: it has it from the Wallet's PaymentInitiated,
        stamped after the BFF accepted it (by `later`)."""
        async with self.bff.query_db.connection() as conn:
            await read_model.upsert_initiated(
                conn,
                payment_id=record.resource_id,
                user_id=uuid.UUID(self.id),
                wallet_id=uuid.uuid4(),
                amount=record.request["amount"],
                currency="RUB",
                recipient=RECIPIENT,
                created_at=record.created_at + later,
            )

    async def history(self, **params: Any) -> dict[str, Any]:
        response = await self.bff.client.get("/api/v1/payments", params=params, headers=self.auth)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def payment(self, payment_id: str) -> dict[str, Any]:
        response = await self.bff.client.get(f"/api/v1/payments/{payment_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        return dict(response.json())


def ids(page: dict[str, Any]) -> list[str]:
    return [item["paymentId"] for item in page["items"]]


def pid(record: KeyRecord) -> str:
    return str(record.resource_id)


async def test_accepted_payments_are_listed_at_once_as_pending(bff: Bff) -> None:
    user = User(bff)
    first, second = await user.accepted(1_000), await user.accepted(2_000)
    page = await user.history()
    assert ids(page) == [pid(second), pid(first)] and page["nextCursor"] is None
    assert [(item["status"], item["amount"]) for item in page["items"]] == [("PENDING", 2_000), ("PENDING", 1_000)]
    assert page["items"] == [await user.payment(pid(second)), await user.payment(pid(first))]
    assert ids(await user.history(status="PENDING")) == [pid(second), pid(first)]
    assert ids(await user.history(status="COMPLETED")) == []
    assert ids(await User(bff).history()) == []  # nobody else's


async def test_once_the_read_model_has_a_payment_it_is_listed_once_from_there(bff: Bff) -> None:
    user = User(bff)
    older, newer = await user.accepted(1_000), await user.accepted(2_000)
    await user.projected(older)
    await user.projected(newer, later=timedelta(milliseconds=900))  # its read-model time is after the BFF's by far
    page = await user.history()
    assert ids(page) == [pid(newer), pid(older)]
    assert [item["createdAt"] for item in page["items"]] == [
        (await user.payment(pid(newer)))["createdAt"],
        (await user.payment(pid(older)))["createdAt"],
    ]
    async with bff.query_db.connection() as conn:  # the read model has it COMPLETED: no PENDING copy
        await conn.execute("UPDATE payments_view SET status = 'COMPLETED' WHERE payment_id = $1", older.resource_id)
    assert ids(await user.history(status="PENDING")) == [pid(newer)]
    assert ids(await user.history(status="COMPLETED")) == [pid(older)]


async def test_paging_skips_and_repeats_nothing_while_the_read_model_lags(bff: Bff) -> None:
    user = User(bff)
    in_model = [await user.accepted(amount) for amount in (1_000, 2_000, 3_000)]
    for record in in_model:
        await user.projected(record)
    lagging = [await user.accepted(amount) for amount in (4_000, 5_000)]
    newest_first = [pid(r) for r in reversed([*in_model, *lagging])]

    first = await user.history(limit=3)
    assert ids(first) == newest_first[:3]
    second = await user.history(limit=3, cursor=first["nextCursor"])
    assert (ids(second), second["nextCursor"]) == (newest_first[3:], None)

    # Whole pages of accepted payments the read model lacks: the next page starts at its newest.
    top = await user.history(limit=2)
    assert ids(top) == newest_first[:2]
    rest = await user.history(limit=2, cursor=top["nextCursor"])
    assert ids(rest) == newest_first[2:4]
