"""Payment's worker steps and background jobs against real PostgreSQL: a scratch Payment database
(so the running test platform's own jobs do not share its rows), and a local HTTP server that plays
the provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from paysaga.devstack.postgres import ensure_databases
from paysaga.platform.db import Database
from paysaga.platform.migrations import upgrade
from paysaga.platform.settings import service_database_url
from paysaga.services.payment.provider_client import ProviderClient
from tests.integration.services.payment.fake_provider import FakeProvider
from tests.support.infra import Infra


@pytest.fixture(scope="package")
async def dsn(infra: Infra) -> str:
    await ensure_databases(infra.admin_url, ["paysaga_paymentjobs"], recreate=True)
    url = service_database_url(infra.admin_url, "paymentjobs")
    await asyncio.to_thread(upgrade, "payment", url)
    return url


@pytest.fixture
async def db(dsn: str) -> AsyncIterator[Database]:
    database = Database(dsn, min_size=1, max_size=5)
    await database.connect()
    async with database.connection() as conn:
        await conn.execute("TRUNCATE early_callbacks, reconciliation_cases, outbox, payments, payment_history")
    yield database
    await database.close()


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake: FakeProvider | None = None

    async def payout(request: web.Request) -> web.Response:
        assert fake is not None
        txn = request.match_info["txn"]
        fake.asked.append(txn)
        if fake.down:
            return web.json_response({"title": "unavailable"}, status=503)
        if txn.startswith("ptx_garbage"):
            return web.Response(text="<html>gateway says hi</html>", status=200)
        if txn not in fake.payouts:
            return web.json_response({"title": "not found"}, status=404)
        status = fake.statuses.get(txn, "SUCCESS")
        return web.json_response({"providerTxnId": txn, "paymentId": fake.payouts[txn], "status": status})

    async def submit(request: web.Request) -> web.Response:
        assert fake is not None
        payment_id = str((await request.json())["paymentId"])
        fake.submissions.append((request.headers["Idempotency-Key"], payment_id))
        if fake.submit_status != 201:
            return web.json_response({"title": "no"}, status=fake.submit_status)
        txn = f"ptx_{payment_id}"
        fake.payouts[txn] = payment_id
        return web.json_response({"providerTxnId": txn, "status": "PROCESSING"}, status=201)

    app = web.Application()
    app.router.add_get("/v1/payouts/{txn}", payout)
    app.router.add_post("/v1/payouts", submit)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = ProviderClient(str(server.make_url("")), api_key="k", callback_url="http://cb", timeout=5)
    fake = FakeProvider(client)
    yield fake
    await client.close()
    await server.close()
