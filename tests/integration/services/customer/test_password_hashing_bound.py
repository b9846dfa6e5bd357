"""The password hashes run on a small executor of their own, bounded: a login flood is shed with
503 + `Retry-After` once the workers are busy and the queue is full, instead of queueing."""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import pytest
from argon2.exceptions import VerifyMismatchError

from paysaga.contracts.identities import BFF
from paysaga.platform.passwords import HashingBusy, PasswordHashing
from paysaga.platform.problems import PROBLEM_MEDIA_TYPE
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.customer.app import build_app
from tests.support.db import connected
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


class BlockingHasher:
    """Verifies nothing until released (then: a mismatch); counts the verifications begun."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0

    def hash(self, password: str) -> str:
        self.release.wait(10)
        return "hashed"

    def verify(self, hash: str, password: str) -> bool:
        self.started += 1
        self.release.wait(10)
        raise VerifyMismatchError

    def check_needs_rehash(self, hash: str) -> bool:
        return False


async def test_with_the_workers_busy_and_the_queue_full_the_next_login_is_503(infra: Infra) -> None:
    hasher = BlockingHasher()
    hashing = PasswordHashing(hasher, workers=1, queue=1)
    async with connected(infra.dsns["customer"], max_size=5) as db:
        app = build_app(db, lambda: UnitOfWork(db, source="/test"), readiness={}, hashing=hashing)
        TEST_KEYS.protect(app, "customer")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", auth=TEST_KEYS.auth("customer", BFF)
        ) as client:

            def login() -> dict[str, str]:
                return {"email": f"{uuid.uuid4().hex}@example.org", "password": "Wrong-password-1"}

            held = [asyncio.create_task(client.post("/v1/credentials/verify", json=login())) for _ in range(2)]
            for _ in range(500):  # one verifying, one queued
                if hashing.pending == 2 and hasher.started == 1:
                    break
                await asyncio.sleep(0.01)
            assert hashing.pending == 2 and hasher.started == 1
            shed = await client.post("/v1/credentials/verify", json=login())
            assert hasher.started == 1  # the shed login never reached the hasher
            hasher.release.set()
            done = await asyncio.gather(*held)
            after = await client.post("/v1/credentials/verify", json=login())
    await hashing.aclose()
    assert shed.status_code == 503
    assert shed.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert shed.json()["type"] == "/problems/overloaded"
    assert 1 <= int(shed.headers["retry-after"]) <= 3
    assert [r.status_code for r in done] == [401, 401]
    assert after.status_code == 401  # the slots were given back
    assert hashing.pending == 0


async def test_the_bound_counts_the_hashes_in_the_executor() -> None:
    hasher = BlockingHasher()
    hashing = PasswordHashing(hasher, workers=1, queue=0)
    first = asyncio.create_task(hashing.hash("a"))
    for _ in range(500):
        if hashing.pending == 1:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(HashingBusy):
        await hashing.hash("b")
    hasher.release.set()
    assert await first == "hashed"
    assert await hashing.hash("c") == "hashed"
    await hashing.aclose()
