"""The BFF's signing keys (SPEC §11): no usable default outside dev mode, and rotation.

The process refuses to start in prod mode without BFF_JWT_SECRET; an app built with a generated
key refuses the tokens of the former dev value; tokens of a previous key are still accepted and
new ones carry the active key's id."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from pydantic import SecretStr

from paysaga.contracts.identities import BFF
from paysaga.platform.db import Database
from paysaga.platform.secrets import KNOWN_DEV_VALUES, require_secrets, reveal, split_secrets
from paysaga.platform.secrets import Secret as SecretField
from paysaga.platform.settings import PlatformSettings
from paysaga.services.bff.app import build_app
from paysaga.services.bff.auth import AUDIENCE, ISSUER, TokenIssuer, key_id
from paysaga.services.bff.deps import BffDeps
from paysaga.services.bff.downstream import Downstream
from paysaga.services.bff.idempotency import IdempotencyStore
from paysaga.services.bff.settings import BffSettings
from paysaga.services.bff.throttle import AuthThrottle
from tests.support.identity import TEST_KEYS

pytestmark = pytest.mark.integration

OLD_DEV_VALUE = "dev-only-secret-change-me-in-production-0123456789"
ACTIVE = "active-signing-key-0123456789abcdef-ACTIVE"
PREVIOUS = "previous-signing-key-0123456789abcdef-PREV"
UNREACHABLE = "http://127.0.0.1:9"  # authenticated calls get past the token check, then 503


def start_bff(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "paysaga.services.bff.main"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_process_refuses_to_start_in_prod_without_its_signing_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_JWT")}
    env.update({"PAYSAGA_ENV": "prod", "PAYSAGA_LOG_FORMAT": "json", "BFF_PORT": "9"})
    done = start_bff(env)
    assert done.returncode != 0
    assert "BFF_JWT_SECRET is not set" in done.stderr, done.stderr[-2000:]


def test_the_process_refuses_the_former_dev_value_in_prod() -> None:
    env = {**os.environ, "PAYSAGA_ENV": "prod", "BFF_JWT_SECRET": OLD_DEV_VALUE, "BFF_PORT": "9"}
    done = start_bff(env)
    assert done.returncode != 0
    assert "BFF_JWT_SECRET is a known development value" in done.stderr, done.stderr[-2000:]


def app_for(settings: BffSettings) -> httpx.AsyncClient:
    tokens = TokenIssuer(reveal(settings.jwt_secret), 900, previous=tuple(split_secrets(settings.jwt_previous_secrets)))
    downstream = Downstream("wallet", UNREACHABLE, timeout=1.0, identity=TEST_KEYS.identity(BFF))
    deps = BffDeps(
        tokens=tokens,
        customer=downstream,
        wallet=downstream,
        query=downstream,
        keys=IdempotencyStore(Database("postgresql://unused@127.0.0.1:9/unused")),  # never connected
        throttle=AuthThrottle(Database("postgresql://unused@127.0.0.1:9/unused")),  # never connected
    )
    app = build_app(deps, readiness={})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff")


def signed(secret: str, *, kid: str | None = None) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(uuid.uuid4()), "iat": now, "exp": now + timedelta(minutes=5), "iss": ISSUER, "aud": AUDIENCE}
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid} if kid else None)


@pytest.fixture
async def generated() -> AsyncIterator[tuple[httpx.AsyncClient, BffSettings]]:
    """A BFF app whose key was generated (dev mode, BFF_JWT_SECRET unset)."""
    settings = require_secrets(
        BffSettings(jwt_secret=None), PlatformSettings(paysaga_env="dev"), [SecretField("jwt_secret")]
    )
    async with app_for(settings) as client:
        yield client, settings


async def test_a_token_signed_with_the_former_dev_value_is_refused(
    generated: tuple[httpx.AsyncClient, BffSettings],
) -> None:
    client, settings = generated
    assert reveal(settings.jwt_secret) not in KNOWN_DEV_VALUES
    for token in (signed(OLD_DEV_VALUE), signed(OLD_DEV_VALUE, kid=key_id(OLD_DEV_VALUE))):
        response = await client.get("/api/v1/wallet", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, response.text
    own = TokenIssuer(reveal(settings.jwt_secret), 60).issue(str(uuid.uuid4()))
    response = await client.get("/api/v1/wallet", headers={"Authorization": f"Bearer {own}"})
    assert response.status_code == 503  # authenticated; the (absent) wallet answers nothing


async def test_previous_keys_still_verify_and_new_tokens_carry_the_active_kid() -> None:
    settings = BffSettings(jwt_secret=SecretStr(ACTIVE), jwt_previous_secrets=f"{PREVIOUS}, ")
    async with app_for(settings) as client:
        old = signed(PREVIOUS, kid=key_id(PREVIOUS))
        response = await client.get("/api/v1/wallet", headers={"Authorization": f"Bearer {old}"})
        assert response.status_code == 503, response.text  # past the token check

        unknown = signed("some-other-key-0123456789abcdef-0123", kid=key_id("some-other-key-0123456789abcdef-0123"))
        response = await client.get("/api/v1/wallet", headers={"Authorization": f"Bearer {unknown}"})
        assert response.status_code == 401

        lying = signed(PREVIOUS, kid=key_id(ACTIVE))  # a kid that is not the signing key's
        response = await client.get("/api/v1/wallet", headers={"Authorization": f"Bearer {lying}"})
        assert response.status_code == 401

    issuer = TokenIssuer(ACTIVE, 60, previous=(PREVIOUS,))
    token = issuer.issue(str(uuid.uuid4()))
    assert jwt.get_unverified_header(token)["kid"] == key_id(ACTIVE) == issuer.kid
    assert len(key_id(ACTIVE)) == 16 and ACTIVE not in token
