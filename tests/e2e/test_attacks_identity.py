"""Attacks from the same network on the internal APIs (SPEC §11), tried black-box on the running
platform: without the right service identity nothing is read, nothing changes."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import grpc
import httpx
import jwt
import pytest

from paysaga.contracts.identities import BFF, OPS, PAYMENT
from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc
from paysaga.platform.identity import ServiceIdentity, key_id, new_private_key_text, private_key
from paysaga.platform.problems import Problem
from paysaga.services.bff.downstream import Downstream
from tests.support.identity import ServiceAuth, grpc_identity, identities
from tests.support.platform import TEST_PORT_OFFSET, RunningPlatform
from tests.support.saga import BIC, Customer, new_account, register

pytestmark = pytest.mark.e2e

# What the BFF used to sign with when its secret was not set: anyone who read the source had it.
OLD_DEV_SECRET = "dev-only-secret-change-me-in-production-0123456789"


@pytest.fixture
def client(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as c:
        yield c


@pytest.fixture
def victim(client: httpx.Client) -> Customer:
    return register(client, top_up=50_000)


def reservation() -> dict:
    recipient = {"accountNumber": new_account(), "bankBic": BIC, "name": "Mallory"}
    return {"paymentId": str(uuid.uuid4()), "amount": 40_000, "currency": "RUB", "recipient": recipient}


def attempts(platform: RunningPlatform) -> dict[str, httpx.Auth | dict[str, str] | None]:
    """The ways in an attacker might try: no identity, a made-up key in the BFF's name, a token
    for another service, and the real identities of services that are not the BFF."""
    callers = identities(platform.env)
    stranger = ServiceIdentity.from_text(BFF, new_private_key_text())
    return {
        "none": None,
        "made-up key": ServiceAuth(stranger, "wallet"),
        "the BFF's token for Query": ServiceAuth(callers[BFF], "query"),
        "Payment": ServiceAuth(callers[PAYMENT], "wallet"),
        "the operators' tools": ServiceAuth(callers[OPS], "wallet"),
        "garbage": {"Authorization": "Bearer not-a-token"},
    }


def send(method: str, url: str, how: httpx.Auth | dict[str, str] | None, **kwargs: object) -> httpx.Response:
    if isinstance(how, dict):
        return httpx.request(method, url, headers=how, timeout=10, **kwargs)  # type: ignore[arg-type]
    return httpx.request(method, url, auth=how, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_a_token_forged_with_the_old_dev_secret_is_refused_by_the_bff(client: httpx.Client, victim: Customer) -> None:
    now = int(time.time())
    forged = jwt.encode({"sub": victim.user_id, "iat": now, "exp": now + 600}, OLD_DEV_SECRET, algorithm="HS256")
    response = client.get("/api/v1/wallet", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("route", ["reservations", "top-ups"])
def test_only_the_bff_reserves_funds_and_tops_up(platform: RunningPlatform, victim: Customer, route: str) -> None:
    before = victim.wallet()
    url = f"{platform.url('wallet')}/v1/users/{victim.user_id}/{route}"
    body = reservation() if route == "reservations" else {"topUpId": str(uuid.uuid4()), "amount": 10**9}
    for how, auth in attempts(platform).items():
        response = send("POST", url, auth, json=body)
        expected = 403 if how in ("Payment", "the operators' tools") else 401
        assert response.status_code == expected, (how, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert victim.wallet() == before  # no money moved, none created
    # The same request as the BFF works: the refusals above were about the caller alone.
    allowed = send("POST", url, ServiceAuth(identities(platform.env)[BFF], "wallet"), json=body)
    assert allowed.status_code == 201, allowed.text


def test_customers_personal_data_and_password_checks_need_the_bff(platform: RunningPlatform, victim: Customer) -> None:
    customer = platform.url("customer")
    for how in (None, ServiceAuth(identities(platform.env)[PAYMENT], "customer")):
        read = send("GET", f"{customer}/v1/customers/{victim.user_id}", how)
        guess = send("POST", f"{customer}/v1/credentials/verify", how, json={"email": "a@b.org", "password": "x" * 12})
        assert read.status_code == guess.status_code == (401 if how is None else 403), (read.text, guess.text)
        assert "@" not in read.text
    as_ops = send("GET", f"{customer}/v1/customers/{victim.user_id}", platform.auth("customer"))
    assert as_ops.status_code == 200 and as_ops.json()["userId"] == victim.user_id


def test_only_the_ops_service_learns_whether_a_customer_token_is_valid(
    platform: RunningPlatform, victim: Customer
) -> None:
    """The BFF's token introspection tells a valid customer token from a forged one: only to the
    operators' identity (a customer's token on the ops API is a 403, anything else a 401)."""
    url = platform.url("bff") + "/internal/v1/token-introspection"
    token = victim.auth["Authorization"].removeprefix("Bearer ")
    for how, status in ((None, 401), (ServiceAuth(identities(platform.env)[PAYMENT], "bff"), 403)):
        refused = send("POST", url, how, json={"token": token})
        assert refused.status_code == status, refused.text
        assert victim.user_id not in refused.text
    as_ops = send("POST", url, platform.auth("bff"), json={"token": token})
    assert as_ops.status_code == 200 and as_ops.json() == {
        "active": True,
        "sub": victim.user_id,
        "token_type": "customer",
    }
    forged = send("POST", url, platform.auth("bff"), json={"token": token[:-4] + "AAAA"})
    assert forged.status_code == 200 and forged.json() == {"active": False, "sub": None, "token_type": None}


def test_the_ops_routes_of_every_service_need_the_operators_identity(
    platform: RunningPlatform, victim: Customer
) -> None:
    account = new_account()
    as_bff = identities(platform.env)[BFF]
    writes = [
        ("antifraud", "PUT", f"/v1/blocklist/{account}"),
        ("antifraud", "DELETE", f"/v1/blocklist/{account}"),
        ("core_banking", "POST", f"/v1/journal/{uuid.uuid4()}/reversal"),
        ("notification", "PUT", "/v1/gateways/sms/behaviour"),
        ("merchant_callback", "POST", "/v1/subscriptions"),
    ]
    reads = [
        ("antifraud", "GET", "/v1/checks"),
        ("notification", "GET", "/v1/notifications"),
        ("payment", "GET", "/v1/reconciliation-cases"),
        ("core_banking", "GET", "/v1/journal"),
        ("merchant_callback", "GET", "/v1/deliveries"),
        ("dwh", "GET", "/v1/summary"),
    ]
    for service, method, path in writes + reads:
        url = platform.url(service) + path
        assert send(method, url, None).status_code == 401, (service, path)
        assert send(method, url, ServiceAuth(as_bff, service)).status_code == 403, (service, path)
    blocklist = httpx.get(platform.url("antifraud") + "/v1/blocklist", auth=platform.auth("antifraud")).json()
    assert account not in str(blocklist)  # the unauthenticated PUT blocked nobody


async def test_only_payment_asks_anti_fraud(platform: RunningPlatform, victim: Customer) -> None:
    request = antifraud_pb2.CheckRequest(
        payment_id=str(uuid.uuid4()),
        user_id=victim.user_id,
        wallet_id=str(uuid.uuid4()),
        amount=100,
        currency="RUB",
        recipient=antifraud_pb2.Recipient(account_number=new_account(), bank_bic=BIC, name="X"),
    )
    target = platform.env["PAYMENT_ANTIFRAUD_TARGET"]
    callers = identities(platform.env)
    made_up = ServiceIdentity.from_text(PAYMENT, new_private_key_text())
    for interceptors, code in [
        ([], grpc.StatusCode.UNAUTHENTICATED),
        ([grpc_identity(made_up, "antifraud")], grpc.StatusCode.UNAUTHENTICATED),
        ([grpc_identity(callers[PAYMENT], "wallet")], grpc.StatusCode.UNAUTHENTICATED),
        ([grpc_identity(callers[BFF], "antifraud")], grpc.StatusCode.PERMISSION_DENIED),
    ]:
        async with grpc.aio.insecure_channel(target, interceptors=interceptors) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await antifraud_pb2_grpc.AntiFraudStub(channel).Check(request, timeout=5)
        assert refused.value.code() == code, refused.value.details()
    async with grpc.aio.insecure_channel(target, interceptors=[grpc_identity(callers[PAYMENT], "antifraud")]) as ch:
        answer = await antifraud_pb2_grpc.AntiFraudStub(ch).Check(request, timeout=5)
    assert answer.decision == antifraud_pb2.ALLOW


def test_a_token_cannot_be_stretched_past_its_lifetime(platform: RunningPlatform, victim: Customer) -> None:
    """Signed with the BFF's real key, but valid for a day: refused (a leaked token is short-lived)."""
    key = private_key(platform.env["BFF_IDENTITY_KEY"])
    now = int(time.time())
    long_lived = jwt.encode(
        {"iss": BFF, "aud": "wallet", "iat": now, "exp": now + 86400},
        key,
        algorithm="EdDSA",
        headers={"kid": key_id(BFF, key.public_key())},
    )
    url = f"{platform.url('wallet')}/v1/users/{victim.user_id}/wallet"
    response = httpx.get(url, headers={"Authorization": f"Bearer {long_lived}"})
    assert response.status_code == 401 and "longer than" in response.json()["detail"]


def start(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module], check=False, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("service", "unset", "named"),
    [
        ("bff", "BFF_IDENTITY_KEY", "BFF_IDENTITY_KEY"),
        ("payment", "PAYMENT_IDENTITY_KEY", "PAYMENT_IDENTITY_KEY"),
        ("wallet", "PAYSAGA_SERVICE_KEYS", "PAYSAGA_SERVICE_KEYS"),
    ],
)
def test_outside_dev_mode_a_service_without_its_identity_keys_refuses_to_start(
    platform: RunningPlatform, service: str, unset: str, named: str
) -> None:
    env = {k: v for k, v in platform.env.items() if k != unset}
    env.update({"PAYSAGA_ENV": "prod", f"{service.upper()}_PORT": str(TEST_PORT_OFFSET + 29000)})
    done = start(f"paysaga.services.{service}.main", env)
    assert done.returncode != 0
    assert f"{named} is not set" in done.stderr, done.stderr[-2000:]


def test_an_identity_key_that_is_not_one_refuses_the_start(platform: RunningPlatform) -> None:
    env = {**platform.env, "BFF_IDENTITY_KEY": "x" * 43 + "!", "BFF_PORT": str(TEST_PORT_OFFSET + 29001)}
    done = start("paysaga.services.bff.main", env)
    assert done.returncode != 0 and "BFF_IDENTITY_KEY" in done.stderr, done.stderr[-2000:]


async def test_a_bff_whose_identity_is_refused_answers_503_and_a_customers_mistake_stays_a_4xx(
    platform: RunningPlatform,
) -> None:
    stranger = Downstream("wallet", platform.url("wallet"), 5.0, ServiceIdentity.from_text(BFF, new_private_key_text()))
    genuine = Downstream("customer", platform.url("customer"), 5.0, identities(platform.env)[BFF])
    try:
        with pytest.raises(Problem) as refused:
            await stranger.request("GET", f"/v1/users/{uuid.uuid4()}/wallet")
        assert refused.value.status == 503
        with pytest.raises(Problem) as wrong_password:
            await genuine.request("POST", "/v1/credentials/verify", json={"email": "a@b.org", "password": "x" * 12})
        assert (wrong_password.value.status, wrong_password.value.slug) == (401, "invalid-credentials")
    finally:
        await stranger.close()
        await genuine.close()
