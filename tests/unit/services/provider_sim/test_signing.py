"""The callback signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`."""

import hashlib
import hmac

import pytest

from paysaga.services.provider_sim.signing import (
    SIGNATURE_HEADER,
    compute_signature,
    signature_header,
    verify_signature,
)

pytestmark = pytest.mark.unit

SECRET = "dev-only-provider-callback-secret-0123456789"
BODY = b'{"callbackId":"cb_1","providerTxnId":"ptx_1","status":"SUCCESS"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert compute_signature(SECRET, 1700000000, BODY) == expected
    assert len(expected) == 64


def test_known_vector() -> None:
    # Fixed vector, so an accidental change of the format (separator, encoding, digest) is caught.
    assert compute_signature("secret", 1, b"{}") == (hmac.new(b"secret", b"1.{}", hashlib.sha256).hexdigest())
    assert compute_signature("secret", 1, b"{}") != compute_signature("secret", 1, b"{} ")


def test_header_format() -> None:
    header = signature_header(SECRET, BODY, timestamp=1700000000)
    assert header == f"t=1700000000,v1={compute_signature(SECRET, 1700000000, BODY)}"
    assert SIGNATURE_HEADER == "Paysaga-Signature"


def test_header_uses_the_current_time_by_default() -> None:
    import time

    before = int(time.time())
    header = signature_header(SECRET, BODY)
    t = int(header.split(",")[0].removeprefix("t="))
    assert before <= t <= int(time.time())


def test_verify_accepts_its_own_signature() -> None:
    header = signature_header(SECRET, BODY, timestamp=1700000000)
    assert verify_signature(SECRET, BODY, header, now=1700000010)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("another-secret-another-secret-0123", BODY, 1700000010),  # wrong secret
        (SECRET, BODY.replace(b"SUCCESS", b"FAILED"), 1700000010),  # tampered body
        (SECRET, BODY, 1700000000 + 301),  # too old: a replay
        (SECRET, BODY, 1700000000 - 301),  # from the future
    ],
)
def test_verify_rejects(secret: str, body: bytes, now: int) -> None:
    header = signature_header(SECRET, BODY, timestamp=1700000000)
    assert not verify_signature(secret, body, header, now=now)


@pytest.mark.parametrize("header", ["", "t=1700000000", "v1=abc", "t=x,v1=abc", "garbage"])
def test_verify_rejects_malformed_headers(header: str) -> None:
    assert not verify_signature(SECRET, BODY, header, now=1700000000)


def test_verify_accepts_any_of_several_v1_values() -> None:
    good = compute_signature(SECRET, 1700000000, BODY)
    header = f"t=1700000000,v1={'0' * 64},v1={good}"
    assert verify_signature(SECRET, BODY, header, now=1700000000)
