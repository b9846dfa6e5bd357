"""`IdempotencyStore.run_once` answers data (status, body, resource id, replayed), never a response."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest

from paysaga.platform.problems import Problem
from paysaga.services.bff.idempotency import Answer, IdempotencyStore
from tests.support.db import connected
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

BODY = {"amount": 1_000, "currency": "RUB"}


@pytest.fixture
async def store(infra: Infra) -> AsyncIterator[IdempotencyStore]:
    async with connected(infra.dsns["bff"], max_size=5) as db:
        yield IdempotencyStore(db)


class Downstream:
    """Records the resource ids it was called with; refuses while `refuse` is set."""

    def __init__(self) -> None:
        self.calls: list[UUID] = []
        self.refuse = False

    async def __call__(self, resource_id: UUID) -> tuple[int, dict[str, Any]]:
        self.calls.append(resource_id)
        if self.refuse:
            raise Problem(422, "insufficient-funds", "Insufficient funds")
        return 202, {"paymentId": str(resource_id)}


async def test_the_first_answer_is_made_once_and_replayed(store: IdempotencyStore) -> None:
    user, call = str(uuid.uuid4()), Downstream()
    first = await store.run_once(user, "payment", "k1", BODY, call)
    again = await store.run_once(user, "payment", "k1", BODY, call)
    assert first == Answer(202, {"paymentId": str(first.resource_id)}, resource_id=first.resource_id, replayed=False)
    assert again == Answer(202, first.body, resource_id=first.resource_id, replayed=True)
    assert (first.headers, again.headers) == ({}, {"Idempotent-Replayed": "true"})
    assert call.calls == [first.resource_id]


async def test_a_refusal_is_raised_and_frees_the_key(store: IdempotencyStore) -> None:
    user, call = str(uuid.uuid4()), Downstream()
    call.refuse = True
    with pytest.raises(Problem):
        await store.run_once(user, "payment", "k2", BODY, call)
    call.refuse = False
    answer = await store.run_once(user, "payment", "k2", BODY, call)
    assert not answer.replayed and answer.resource_id == call.calls[-1] != call.calls[0]


@pytest.mark.parametrize("key", [None, " ", "x" * 256])
async def test_a_missing_or_invalid_key_is_a_400(store: IdempotencyStore, key: str | None) -> None:
    with pytest.raises(Problem) as problem:
        await store.run_once(str(uuid.uuid4()), "payment", key, BODY, Downstream())
    assert problem.value.status == 400
