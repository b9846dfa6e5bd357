"""The first slice through the BFF: register → CustomerCreated → wallet; login; bad input."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import jwt
import pytest
import yaml
from jsonschema import Draft202012Validator

from paysaga.contracts.generate import ASYNCAPI_FILE, SCHEMA_DIR
from paysaga.contracts.identities import BFF
from paysaga.contracts.topics import CUSTOMER_EVENTS
from tests.support.infra import Infra
from tests.support.kafka import read_topic, wait_for_records
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-42"


def new_user(**overrides: str) -> dict[str, str]:
    body = {
        "email": f"ann-{uuid.uuid4().hex[:10]}@example.org",
        "password": PASSWORD,
        "name": "Анна Иванова",
        "phone": "+79161234567",
        "currency": "RUB",
    }
    body.update(overrides)
    return body


@pytest.fixture
def bff(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        yield client


def login(bff: httpx.Client, email: str, password: str = PASSWORD) -> str:
    response = bff.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenType"] == "Bearer" and body["expiresIn"] > 0
    return body["accessToken"]


def wait_for_wallet(bff: httpx.Client, token: str, timeout: float = 15) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = bff.get("/api/v1/wallet", headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_register_publishes_customer_created_and_opens_the_wallet(bff: httpx.Client, infra: Infra) -> None:
    user = new_user(currency="USD")
    response = bff.post("/api/v1/auth/register", json=user)
    assert response.status_code == 201, response.text
    user_id = response.json()["userId"]

    records = wait_for_records(infra.kafka, CUSTOMER_EVENTS, lambda r: r.key == user_id)
    assert len(records) == 1
    record = records[0]
    payload = record.json
    assert set(payload) == {"userId", "currency", "createdAt"}  # exactly the seed fields
    assert payload["userId"] == user_id and payload["currency"] == "USD"
    Draft202012Validator(__import__("json").loads((SCHEMA_DIR / "CustomerCreated.json").read_text())).validate(payload)
    headers_schema = yaml.safe_load(ASYNCAPI_FILE.read_text())["components"]["schemas"]["CloudEventsHeaders"]
    Draft202012Validator(headers_schema).validate(record.headers)
    assert record.headers["ce_type"] == "CustomerCreated"
    assert record.headers["ce_source"] == "/paysaga/customer"
    assert record.headers["traceparent"].startswith("00-")

    token = login(bff, user["email"])
    wallet = wait_for_wallet(bff, token)
    assert wallet.status_code == 200, wallet.text
    body = wallet.json()
    assert set(body) == {"walletId", "currency", "balance", "reserved", "available"}
    assert body["currency"] == "USD"
    assert body["balance"] == body["reserved"] == body["available"] == 0


def test_login_is_case_insensitive_on_email_and_rejects_a_wrong_password(bff: httpx.Client) -> None:
    user = new_user()
    assert bff.post("/api/v1/auth/register", json=user).status_code == 201
    login(bff, user["email"].upper())
    response = bff.post("/api/v1/auth/login", json={"email": user["email"], "password": "wrong-password-1"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("invalid-credentials")
    unknown = bff.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": PASSWORD})
    assert unknown.status_code == 401


@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "expired", "forged"],
)
def test_wallet_requires_a_valid_bearer_token(bff: httpx.Client, platform: RunningPlatform, header: str | None) -> None:
    if header == "expired":
        token = jwt.encode(  # signed with the platform's own (generated) key: refused only for its age
            {"sub": str(uuid.uuid4()), "iat": 1, "exp": 2, "iss": "paysaga-bff", "aud": "paysaga-api"},
            platform.env["BFF_JWT_SECRET"],
            algorithm="HS256",
        )
        header = f"Bearer {token}"
    elif header == "forged":
        token = jwt.encode(
            {
                "sub": str(uuid.uuid4()),
                "iat": int(time.time()),
                "exp": int(time.time()) + 60,
                "iss": "paysaga-bff",
                "aud": "paysaga-api",
            },
            "another-secret-another-secret-0123456789",
            algorithm="HS256",
        )
        header = f"Bearer {token}"
    response = bff.get("/api/v1/wallet", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def _counts(infra: Infra) -> tuple[int, int]:
    conn = await asyncpg.connect(infra.dsns["customer"])
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM customers"),
            await conn.fetchval("SELECT count(*) FROM outbox"),
        )
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("overrides", "status", "problem", "field"),
    [
        ({"email": "not-an-email"}, 422, "validation-error", "email"),
        ({"password": "short1"}, 422, "validation-error", "password"),
        # The policy the schema states (a letter and a digit) is the schema's 422; the rules it cannot
        # state (5 different characters, not the email's name) are the registration's `weak-password`.
        ({"password": "abcdefghijkl"}, 422, "validation-error", "password"),
        ({"password": "1234567890123"}, 422, "validation-error", "password"),
        ({"password": "aaaa1111aaaa"}, 422, "weak-password", None),
        ({"currency": "XYZ"}, 422, "validation-error", "currency"),
        ({"currency": "rub"}, 422, "validation-error", "currency"),
        ({"phone": "not a phone"}, 422, "validation-error", "phone"),
        ({"name": ""}, 422, "validation-error", "name"),
        ({"name": "   "}, 422, "validation-error", "name"),
        ({"name": "Anna\x00Ivanova"}, 422, "validation-error", "name"),
        ({"name": "Anna\x07"}, 422, "validation-error", "name"),
        ({"name": "Anna\nIvanova"}, 422, "validation-error", "name"),
        ({"name": "Anna\u2028Ivanova"}, 422, "validation-error", "name"),
    ],
)
async def test_bad_registration_is_a_problem_and_changes_nothing(
    bff: httpx.Client, infra: Infra, overrides: dict[str, str], status: int, problem: str, field: str | None
) -> None:
    before = await _counts(infra)
    events_before = len(read_topic(infra.kafka, CUSTOMER_EVENTS))
    response = bff.post("/api/v1/auth/register", json=new_user(**overrides))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith(problem) and body["status"] == status and body["title"] and body["detail"]
    if field:
        assert any(e["location"][-1] == field for e in body["errors"])
    assert await _counts(infra) == before
    assert len(read_topic(infra.kafka, CUSTOMER_EVENTS)) == events_before


@pytest.mark.parametrize("name", ["Anna\x00Ivanova", "Anna\x07", "Anna\nIvanova", "\t"])
async def test_the_customer_service_refuses_a_name_with_control_characters(
    platform: RunningPlatform, infra: Infra, name: str
) -> None:
    before = await _counts(infra)
    response = httpx.post(
        platform.url("customer") + "/v1/customers",
        json=new_user(name=name),
        auth=platform.auth("customer", BFF),
        timeout=10,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(e["location"][-1] == "name" for e in response.json()["errors"])
    assert await _counts(infra) == before


@pytest.mark.parametrize("name", ["Жанна д'Арк-Иванова", "José María O'Neil", "李 小龙", "Zoë  Ngô"])
def test_names_in_any_script_with_spaces_hyphens_and_apostrophes_register(bff: httpx.Client, name: str) -> None:
    response = bff.post("/api/v1/auth/register", json=new_user(name=name))
    assert response.status_code == 201, response.text


async def test_duplicate_email_is_409_and_publishes_nothing_more(bff: httpx.Client, infra: Infra) -> None:
    user = new_user()
    first = bff.post("/api/v1/auth/register", json=user)
    assert first.status_code == 201
    before = await _counts(infra)
    again = bff.post("/api/v1/auth/register", json={**user, "email": user["email"].upper(), "name": "Other"})
    assert again.status_code == 409
    assert again.json()["type"].endswith("email-taken")
    assert await _counts(infra) == before


def test_every_service_serves_health_and_openapi(platform: RunningPlatform) -> None:
    for service in ("bff", "customer", "wallet"):
        base = platform.url(service)
        health = httpx.get(base + "/healthz").json()
        assert health["status"] == "ok" and set(health) == {"status", "instance"}
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 200, ready.text
        assert httpx.get(base + "/openapi.json").json()["openapi"].startswith("3.")
    paths = httpx.get(platform.url("bff") + "/openapi.json").json()["paths"]
    assert {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/wallet"} <= set(paths)
