"""Service identity tokens: who signed, for whom, for how long; and the checks a forger meets."""

from __future__ import annotations

import time

import jwt
import pytest

from paysaga.platform.identity import (
    IdentityError,
    KeyFormatError,
    ServiceIdentity,
    ServiceVerifier,
    bearer_token,
    key_id,
    new_private_key_text,
    parse_service_keys,
    private_key,
    service_keys_text,
)

pytestmark = pytest.mark.unit

BFF_KEY, PAYMENT_KEY = new_private_key_text(), new_private_key_text()
KEYS = service_keys_text({"bff": BFF_KEY, "payment": PAYMENT_KEY})


def test_a_token_names_its_signer_to_the_service_it_is_addressed_to() -> None:
    token = ServiceIdentity.from_text("bff", BFF_KEY).token("wallet")
    assert ServiceVerifier.from_text("wallet", KEYS).caller(token) == "bff"


def test_a_token_for_another_service_is_refused() -> None:
    token = ServiceIdentity.from_text("bff", BFF_KEY).token("query")
    with pytest.raises(IdentityError, match=r"(?i)audience"):
        ServiceVerifier.from_text("wallet", KEYS).caller(token)


def test_a_key_the_service_does_not_know_is_refused() -> None:
    stranger = ServiceIdentity.from_text("bff", new_private_key_text())
    with pytest.raises(IdentityError, match="does not know"):
        ServiceVerifier.from_text("wallet", KEYS).caller(stranger.token("wallet"))


def test_a_service_cannot_sign_in_another_ones_name() -> None:
    """Payment's key with `iss=bff` and the BFF's key id: the signature does not match that key."""
    key = private_key(PAYMENT_KEY)
    now = int(time.time())
    claims = {"iss": "bff", "aud": "wallet", "iat": now, "exp": now + 60}
    forged_kid = jwt.encode(
        claims, key, algorithm="EdDSA", headers={"kid": key_id("bff", private_key(BFF_KEY).public_key())}
    )
    own_kid = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": key_id("payment", key.public_key())})
    verifier = ServiceVerifier.from_text("wallet", KEYS)
    with pytest.raises(IdentityError, match=r"(?i)signature"):
        verifier.caller(forged_kid)
    with pytest.raises(IdentityError, match="issuer"):
        verifier.caller(own_kid)


def test_expired_long_lived_unsigned_and_malformed_tokens_are_refused() -> None:
    key = private_key(BFF_KEY)
    kid = key_id("bff", key.public_key())
    now = int(time.time())
    verifier = ServiceVerifier.from_text("wallet", KEYS)
    expired = jwt.encode(
        {"iss": "bff", "aud": "wallet", "iat": now - 600, "exp": now - 120}, key, "EdDSA", {"kid": kid}
    )
    long_lived = jwt.encode({"iss": "bff", "aud": "wallet", "iat": now, "exp": now + 86400}, key, "EdDSA", {"kid": kid})
    no_expiry = jwt.encode({"iss": "bff", "aud": "wallet", "iat": now}, key, "EdDSA", {"kid": kid})
    unsigned = jwt.encode({"iss": "bff", "aud": "wallet", "iat": now, "exp": now + 60}, "", "none", {"kid": kid})
    hmac = jwt.encode({"iss": "bff", "aud": "wallet", "iat": now, "exp": now + 60}, "x" * 32, "HS256", {"kid": kid})
    for token, reason in [
        (expired, "expired"),
        (long_lived, "longer than"),
        (no_expiry, "exp"),
        (unsigned, "alg"),
        (hmac, "alg"),
        ("not.a.token", "malformed"),
    ]:
        with pytest.raises(IdentityError, match=reason):
            verifier.caller(token)


def test_during_a_rotation_tokens_of_the_old_and_the_new_key_are_accepted() -> None:
    new_key = new_private_key_text()
    keys = service_keys_text({"bff": BFF_KEY}) + "," + service_keys_text({"bff": new_key})
    verifier = ServiceVerifier.from_text("wallet", keys)
    assert verifier.caller(ServiceIdentity.from_text("bff", BFF_KEY).token("wallet")) == "bff"
    assert verifier.caller(ServiceIdentity.from_text("bff", new_key).token("wallet")) == "bff"
    assert verifier.known_callers == {"bff"}


def test_a_caller_reuses_its_token_until_shortly_before_it_expires() -> None:
    identity = ServiceIdentity.from_text("bff", BFF_KEY)
    assert identity.token("wallet") == identity.token("wallet")
    assert identity.token("wallet") != identity.token("query")
    short = ServiceIdentity.from_text("bff", BFF_KEY)
    short._lifetime = 30  # shorter than the renewal margin: a new token every time
    first = short.token("wallet")
    time.sleep(1.1)
    assert short.token("wallet") != first


def test_a_verified_token_is_remembered_until_it_expires() -> None:
    verifier = ServiceVerifier.from_text("wallet", KEYS)
    token = ServiceIdentity.from_text("bff", BFF_KEY).token("wallet")
    assert verifier.caller(token) == "bff"
    verifier._keys.clear()  # the key is forgotten: only the cache can still answer
    assert verifier.caller(token) == "bff"
    verifier._cache[token] = ("bff", time.time() - 3600)  # the remembered expiry has passed
    with pytest.raises(IdentityError, match="does not know"):  # so it is verified afresh
        verifier.caller(token)


@pytest.mark.parametrize(
    "text",
    ["bff", "=abc", "bff=not-base64!", "bff=" + "A" * 10, "bff=" + new_private_key_text() + "AA"],
)
def test_malformed_service_keys_are_refused(text: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_service_keys(text)


def test_an_empty_list_knows_no_caller() -> None:
    assert parse_service_keys(" , ") == {}


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None), (None, None), ("", None)],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
