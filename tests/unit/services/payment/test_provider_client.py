"""How the Payment service reads the provider's answers to a payout request (a local HTTP server
plays the provider)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from paysaga.services.payment.provider_client import (
    PayoutDeclined,
    ProviderClient,
    ProviderMisconfigured,
    ProviderUnavailable,
)

RECIPIENT = {"accountNumber": "40817810700000000001", "bankBic": "044525225", "name": "Ivan Petrov"}


@pytest.fixture
async def provider() -> AsyncIterator[tuple[ProviderClient, dict[str, int]]]:
    answer = {"status": 201}

    async def payouts(request: web.Request) -> web.Response:
        body = await request.json()
        assert request.headers["Idempotency-Key"] == body["paymentId"]
        if answer["status"] == 201:
            return web.json_response({"providerTxnId": "ptx_1", "status": "PROCESSING"}, status=201)
        return web.json_response({"title": "no"}, status=answer["status"])

    app = web.Application()
    app.router.add_post("/v1/payouts", payouts)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = ProviderClient(str(server.make_url("")), api_key="k", callback_url="http://cb", timeout=5)
    yield client, answer
    await client.close()
    await server.close()


async def submit(client: ProviderClient) -> str:
    return await client.submit(payment_id="p-1", amount=100, currency="RUB", recipient=RECIPIENT)


async def test_created_gives_the_provider_txn_id(provider: tuple[ProviderClient, dict[str, int]]) -> None:
    client, _ = provider
    assert await submit(client) == "ptx_1"


@pytest.mark.parametrize("status", [400, 422])
async def test_an_explicit_refusal_is_a_decline(provider: tuple[ProviderClient, dict[str, int]], status: int) -> None:
    client, answer = provider
    answer["status"] = status
    with pytest.raises(PayoutDeclined):
        await submit(client)


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_wrong_key_or_url_is_retried_never_a_decline(
    provider: tuple[ProviderClient, dict[str, int]], status: int
) -> None:
    client, answer = provider
    answer["status"] = status
    with pytest.raises(ProviderMisconfigured):
        await submit(client)


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504])
async def test_no_definite_answer_is_retried(provider: tuple[ProviderClient, dict[str, int]], status: int) -> None:
    client, answer = provider
    answer["status"] = status
    with pytest.raises(ProviderUnavailable) as caught:
        await submit(client)
    assert not isinstance(caught.value, ProviderMisconfigured)


async def test_nobody_listening_is_retried() -> None:
    client = ProviderClient("http://127.0.0.1:9", api_key="k", callback_url="http://cb", timeout=2)
    try:
        with pytest.raises(ProviderUnavailable):
            await submit(client)
    finally:
        await client.close()
