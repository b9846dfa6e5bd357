"""The merchants' webhook secrets at rest (SPEC §11): only ciphertext in the database, never shown
nor logged after creation, still signing after the key rotates, and old plaintext rows encrypted
when the dispatcher starts."""

from __future__ import annotations

import uuid

import pytest
import structlog
from cryptography.fernet import Fernet

from paysaga.contracts.signatures import SIGNATURE_HEADER, verify_signature
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.services.merchant_callback.secretbox import SecretBox
from tests.integration.services.merchant_callback.conftest import Harness
from tests.integration.services.merchant_callback.helpers import (
    TEST_BOX,
    TEST_KEY,
    Receiver,
    eventually,
    new_account,
    new_secret,
    publish_completed,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def _row(db: Database, subscription_id: str) -> dict[str, object]:
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT secret, secret_encrypted FROM subscriptions WHERE subscription_id = $1",
            uuid.UUID(subscription_id),
        )
    assert row is not None
    return dict(row)


async def _delivered(receiver: Receiver, url: str) -> bool:
    return any(r.answered == 200 for r in receiver.received(url))


async def test_the_database_holds_only_ciphertext_and_no_answer_nor_log_shows_the_secret(
    db: Database, harness: Harness
) -> None:
    account, secret = new_account(), new_secret()
    with structlog.testing.capture_logs() as logs:
        created = await harness.http.post(
            "/v1/subscriptions", json={"accountNumber": account, "url": "https://merchant.example/h", "secret": secret}
        )
        assert created.status_code == 201
        listing = await harness.http.get("/v1/subscriptions", params={"accountNumber": account})
        one = await harness.http.get(created.headers["location"])
    subscription_id = created.json()["subscriptionId"]
    row = await _row(db, subscription_id)
    assert row["secret"] is None
    stored = row["secret_encrypted"]
    assert isinstance(stored, bytes) and secret.encode() not in stored
    assert TEST_BOX.decrypt(stored) == secret
    assert secret not in created.text + listing.text + one.text + repr(logs)


async def test_a_webhook_is_signed_with_the_secret_and_still_after_the_key_rotates(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, _ = receiver.endpoint(secret)
    await harness.subscribe(account, url, secret)  # encrypted under TEST_BOX's key

    # Rotation: a new active key, the one the secret was encrypted under is now a previous key.
    new_key = Fernet.generate_key().decode()
    rotated = SecretBox(new_key, [TEST_KEY])
    await harness.start_dispatcher(box=rotated)
    publish_completed(infra, account)
    assert await eventually(lambda: _delivered(receiver, url))
    [request] = receiver.received(url)
    assert request.verified
    assert verify_signature(secret, request.body, request.headers[SIGNATURE_HEADER.lower()])


async def test_plaintext_secrets_from_before_are_encrypted_when_the_dispatcher_starts(
    infra: Infra, db: Database, harness: Harness, consumer: EventConsumer, receiver: Receiver
) -> None:
    account, secret = new_account(), new_secret()
    url, _ = receiver.endpoint(secret)
    subscription_id = uuid.uuid4()
    async with db.connection() as conn:  # as the service stored it before migration 0002
        await conn.execute(
            "INSERT INTO subscriptions (subscription_id, account_number, url, secret) VALUES ($1, $2, $3, $4)",
            subscription_id,
            account,
            url,
            secret,
        )
    with structlog.testing.capture_logs() as logs:
        await harness.start_dispatcher()

        async def encrypted() -> bool:
            return (await _row(db, str(subscription_id)))["secret"] is None

        assert await eventually(encrypted)
        row = await _row(db, str(subscription_id))
        assert isinstance(row["secret_encrypted"], bytes)
        assert TEST_BOX.decrypt(row["secret_encrypted"]) == secret
        publish_completed(infra, account)
        assert await eventually(lambda: _delivered(receiver, url))
    assert receiver.received(url)[0].verified
    assert secret not in repr(logs)
