"""Login and registration are throttled per client address and per account (failed logins), with
counters in the BFF's PostgreSQL (shared by every BFF instance): 429 with `Retry-After`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from paysaga.contracts.identities import BFF
from paysaga.platform.db import Database
from paysaga.platform.http_client import HttpResponse
from paysaga.platform.problems import PROBLEM_MEDIA_TYPE, Problem
from paysaga.services.bff.app import build_app
from paysaga.services.bff.auth import TokenIssuer
from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.idempotency import IdempotencyStore
from paysaga.services.bff.throttle import AuthThrottle, ThrottleLimits
from tests.support.db import connected
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

RIGHT = "right-password-1"


class FakeCustomer(Downstream):
    """The Customer service: every account's password is RIGHT; registration always succeeds."""

    def __init__(self) -> None:
        super().__init__("customer", "http://127.0.0.1:9", timeout=1.0, identity=TEST_KEYS.identity(BFF))
        self.calls = 0

    async def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        self.calls += 1
        if path == "/v1/credentials/verify" and kwargs["json"]["password"] != RIGHT:
            raise Problem(401, "invalid-credentials", "Invalid credentials", "The email or password is wrong.")
        body = orjson.dumps({"userId": str(uuid.uuid4())})
        return HttpResponse(200, CIMultiDictProxy(CIMultiDict()), body)


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    async with connected(infra.dsns["bff"], max_size=5) as database:
        yield database


def bff(db: Database, customer: FakeCustomer, limits: ThrottleLimits | None = None) -> Any:
    deps = BffDeps(
        tokens=TokenIssuer("x" * 32, 900),
        customer=customer,
        wallet=customer,
        query=customer,
        keys=IdempotencyStore(db),
        throttle=AuthThrottle(db, limits),
    )
    return build_app(deps, readiness={})


def client(app: Any, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://bff")


def new_email() -> str:
    return f"ann-{uuid.uuid4().hex[:12]}@example.org"


def new_address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "/problems/too-many-requests"
    assert 1 <= int(response.headers["retry-after"]) <= 900


async def test_wrong_passwords_lock_the_account_but_no_other_account_or_address(db: Database) -> None:
    customer = FakeCustomer()
    app = bff(db, customer)
    victim, other = new_email(), new_email()
    async with client(app, new_address()) as attacker, client(app, new_address()) as someone:
        statuses = []
        for _ in range(20):
            response = await attacker.post("/api/v1/auth/login", json={"email": victim, "password": "wrong-pass-1"})
            statuses.append(response.status_code)
        assert statuses[:10] == [401] * 10
        assert statuses[10:] == [429] * 10
        assert_throttled(response)
        assert customer.calls == 10  # the throttled attempts never reached the password check
        # The right password does not get through a locked account either, even with other case.
        locked = await someone.post("/api/v1/auth/login", json={"email": victim.upper(), "password": RIGHT})
        assert_throttled(locked)
        # Another account, from another address: not affected.
        fine = await someone.post("/api/v1/auth/login", json={"email": other, "password": RIGHT})
        assert fine.status_code == 200, fine.text


async def test_a_successful_login_resets_the_account_failures(db: Database) -> None:
    app = bff(db, FakeCustomer())
    email = new_email()
    async with client(app, new_address()) as c:
        for _ in range(9):
            assert (
                await c.post("/api/v1/auth/login", json={"email": email, "password": "nope-12345"})
            ).status_code == 401
        assert (await c.post("/api/v1/auth/login", json={"email": email, "password": RIGHT})).status_code == 200
        for _ in range(9):
            assert (
                await c.post("/api/v1/auth/login", json={"email": email, "password": "nope-12345"})
            ).status_code == 401
        assert (await c.post("/api/v1/auth/login", json={"email": email, "password": RIGHT})).status_code == 200


async def test_too_many_requests_from_one_address_are_throttled_other_addresses_not(db: Database) -> None:
    app = bff(db, FakeCustomer(), ThrottleLimits(address_requests=5))
    user = {"email": new_email(), "password": RIGHT, "name": "Ann", "phone": "+79161234567", "currency": "RUB"}
    async with client(app, new_address()) as busy, client(app, new_address()) as quiet:
        for _ in range(3):
            assert (
                await busy.post("/api/v1/auth/login", json={"email": new_email(), "password": RIGHT})
            ).status_code == 200
        assert (await busy.post("/api/v1/auth/register", json=user)).status_code == 201
        assert (
            await busy.post("/api/v1/auth/login", json={"email": new_email(), "password": RIGHT})
        ).status_code == 200
        assert_throttled(await busy.post("/api/v1/auth/login", json={"email": new_email(), "password": RIGHT}))
        assert_throttled(await busy.post("/api/v1/auth/register", json={**user, "email": new_email()}))
        assert (
            await quiet.post("/api/v1/auth/login", json={"email": new_email(), "password": RIGHT})
        ).status_code == 200


async def test_the_purge_deletes_the_counters_of_ended_windows(db: Database) -> None:
    throttle = AuthThrottle(db)
    email = new_email()
    await throttle.login_failed(email)
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE auth_throttle SET expires_at = now() - interval '1 second' WHERE subject = $1", email
        )
    assert await throttle.purge() >= 1
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM auth_throttle WHERE subject = $1", email) == 0
