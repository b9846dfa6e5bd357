"""The merchants' webhook secrets at rest: Fernet under the service's key, rotation, the start-up check."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.fernet import Fernet

from paysaga.platform.secrets import InsecureSecrets
from paysaga.platform.settings import PlatformSettings
from paysaga.services.merchant_callback.main import secret_box
from paysaga.services.merchant_callback.secretbox import SecretBox, SecretUndecryptable, fernet_key
from paysaga.services.merchant_callback.settings import MerchantCallbackSettings

PROD = PlatformSettings(paysaga_env="prod")
DEV = PlatformSettings(paysaga_env="dev")


@pytest.fixture(autouse=True)
def _no_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MERCHANT_CALLBACK_SECRETS_KEY", raising=False)
    monkeypatch.delenv("MERCHANT_CALLBACK_PREVIOUS_SECRETS_KEYS", raising=False)


def _settings(key: str | None = None, previous: str = "") -> MerchantCallbackSettings:
    return MerchantCallbackSettings(secrets_key=key, previous_secrets_keys=previous)  # type: ignore[arg-type]


def test_the_ciphertext_holds_no_plaintext_and_decrypts_back() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    token = box.encrypt("whsec_merchant-secret-0123")
    assert b"whsec" not in token and b"merchant" not in base64.urlsafe_b64decode(token)
    assert box.decrypt(token) == "whsec_merchant-secret-0123"
    assert box.encrypt("whsec_merchant-secret-0123") != token  # a fresh IV each time


def test_a_secret_under_a_previous_key_still_decrypts_after_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox(old).encrypt("whsec_before-rotation")
    rotated = SecretBox.of(new, f" {old} ,")
    assert rotated.decrypt(token) == "whsec_before-rotation"
    assert SecretBox(new).decrypt(rotated.rotate(token)) == "whsec_before-rotation"  # re-encrypted under new
    with pytest.raises(SecretUndecryptable):
        SecretBox(new).decrypt(token)  # the old key dropped too early


def test_a_key_without_its_base64_padding_is_accepted() -> None:
    key = Fernet.generate_key().decode()
    assert fernet_key(key.rstrip("=")) == key.encode()
    SecretBox(secrets.token_urlsafe(32))  # what require_secrets generates in dev mode


def test_outside_dev_the_service_refuses_to_start_without_the_key() -> None:
    with pytest.raises(InsecureSecrets, match="MERCHANT_CALLBACK_SECRETS_KEY is not set"):
        secret_box(_settings(), PROD)


@pytest.mark.parametrize(
    ("key", "previous", "why"),
    [
        ("x" * 44, "", "MERCHANT_CALLBACK_SECRETS_KEY is not a usable Fernet key: decodes to 33 bytes"),
        ("not base64 at all, but long enough!!!!", "", "MERCHANT_CALLBACK_SECRETS_KEY is not a usable Fernet key"),
        (None, "y" * 40, "MERCHANT_CALLBACK_PREVIOUS_SECRETS_KEYS is not a usable Fernet key"),
    ],
)
def test_a_key_that_is_not_a_fernet_key_is_refused(key: str | None, previous: str, why: str) -> None:
    with pytest.raises(InsecureSecrets, match=why):
        secret_box(_settings(key or Fernet.generate_key().decode(), previous), PROD)


def test_a_usable_key_starts_and_dev_mode_makes_one_up() -> None:
    key = Fernet.generate_key().decode()
    assert secret_box(_settings(key), PROD).decrypt(SecretBox(key).encrypt("whsec_x")) == "whsec_x"
    box = secret_box(_settings(), DEV)
    assert box.decrypt(box.encrypt("whsec_y")) == "whsec_y"
    assert "keys hidden" in repr(box) and key not in repr(secret_box(_settings(key), PROD))
