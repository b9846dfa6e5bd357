"""The provider's secret rotates (SPEC §11): a callback signed with a previous secret is still
accepted while CALLBACK_PROVIDER_PREVIOUS_SECRETS lists it; one signed with an unknown secret is not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from paysaga.platform.kafka import KafkaProducer
from paysaga.services.callback.app import build_app
from tests.integration.services.callback.conftest import (
    SECRET,
    assert_problem,
    callback_json,
    new_txn_id,
    settings,
    signed,
)

pytestmark = pytest.mark.integration

PATH = "/v1/provider/callbacks"
PREVIOUS = "callback-previous-provider-secret-0123456789"
OLDER = "callback-older-provider-secret-0123456789abc"


@pytest.fixture
async def rotating(producer: KafkaProducer) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(
        settings(provider_previous_secrets=f"{PREVIOUS},{OLDER}"),
        producer,
        source="/paysaga/callback",
        readiness={"kafka": producer.check_connection},
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callback") as client:
        yield client


async def test_active_and_previous_secrets_are_accepted_an_unknown_one_is_not(rotating: httpx.AsyncClient) -> None:
    for secret in (SECRET, PREVIOUS, OLDER):
        body = orjson.dumps(callback_json(new_txn_id()))
        response = await rotating.post(PATH, content=body, headers=signed(body, secret=secret))
        assert response.status_code == 200, response.text

    body = orjson.dumps(callback_json(new_txn_id()))
    unknown = "callback-unknown-provider-secret-0123456789"
    assert_problem(
        await rotating.post(PATH, content=body, headers=signed(body, secret=unknown)), 401, "invalid-signature"
    )
