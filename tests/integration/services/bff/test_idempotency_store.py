"""The BFF's idempotency keys against real PostgreSQL (the session's BFF database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from paysaga.platform.db import Database
from paysaga.services.bff.idempotency import IdempotencyStore
from tests.support.db import connected
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

BODY = {"amount": 1_000, "currency": "RUB"}


@pytest.fixture
async def store(infra: Infra) -> AsyncIterator[IdempotencyStore]:
    async with connected(infra.dsns["bff"], max_size=5) as db:
        yield IdempotencyStore(db)


def new_user() -> str:
    return str(uuid.uuid4())


async def test_a_refusal_while_another_request_runs_keeps_the_key_for_its_answer(store: IdempotencyStore) -> None:
    """A and B carry one key at once; A is refused (no money yet), B then succeeds (money arrived).
    A's refusal must not free the key under B: a later retry must replay B's answer, not mint a
    second resource (a second payment)."""
    user, key = new_user(), "k-race"
    a = await store.begin(user, "payment", key, BODY)
    b = await store.begin(user, "payment", key, BODY)
    assert a.resource_id == b.resource_id and a.response_status is None
    await store.finish(user, "payment", key, refused=True)  # A: 422 insufficient funds
    await store.complete(user, "payment", key, 202, {"paymentId": str(b.resource_id)})  # B: accepted
    retry = await store.begin(user, "payment", key, BODY)
    assert (retry.resource_id, retry.response_status) == (b.resource_id, 202)


async def test_a_refusal_alone_frees_the_key(store: IdempotencyStore) -> None:
    user, key = new_user(), "k-refused"
    first = await store.begin(user, "payment", key, BODY)
    await store.finish(user, "payment", key, refused=True)
    again = await store.begin(user, "payment", key, BODY)
    assert again.resource_id != first.resource_id and again.response_status is None


async def test_an_outage_keeps_the_key_and_its_resource_id(store: IdempotencyStore) -> None:
    user, key = new_user(), "k-outage"
    first = await store.begin(user, "payment", key, BODY)
    await store.finish(user, "payment", key, refused=False)  # 503: the wallet may have reserved
    retry = await store.begin(user, "payment", key, BODY)
    assert retry.resource_id == first.resource_id
    await store.finish(user, "payment", key, refused=True)  # the retry is refused: now nothing runs
    assert (await store.begin(user, "payment", key, BODY)).resource_id != first.resource_id


async def test_an_answered_key_replays_and_does_not_count_as_running(store: IdempotencyStore) -> None:
    user, key = new_user(), "k-done"
    first = await store.begin(user, "payment", key, BODY)
    await store.complete(user, "payment", key, 202, {"paymentId": str(first.resource_id)})
    replay = await store.begin(user, "payment", key, BODY)
    assert (replay.resource_id, replay.response_status, replay.response_body) == (
        first.resource_id,
        202,
        {"paymentId": str(first.resource_id)},
    )
    db: Database = store._db
    async with db.connection() as conn:
        in_flight = await conn.fetchval(
            "SELECT in_flight FROM idempotency_keys WHERE user_id = $1 AND key = $2", uuid.UUID(user), key
        )
    assert in_flight == 0


async def test_a_request_joining_a_retaken_key_is_counted_with_it(store: IdempotencyStore) -> None:
    """A is refused and frees the key; C takes it again (a new resource id); B, with the same body,
    joins C. B's refusal must not free the key under C, whose answer must then be replayed."""
    user, key = new_user(), "k-retaken"
    await store.begin(user, "payment", key, BODY)  # A
    await store.finish(user, "payment", key, refused=True)
    c = await store.begin(user, "payment", key, BODY)  # C
    b = await store.begin(user, "payment", key, BODY)  # B joins C
    assert b.resource_id == c.resource_id
    await store.finish(user, "payment", key, refused=True)  # B refused
    await store.complete(user, "payment", key, 202, {"paymentId": str(c.resource_id)})  # C accepted
    retry = await store.begin(user, "payment", key, BODY)
    assert (retry.resource_id, retry.response_status) == (c.resource_id, 202)
