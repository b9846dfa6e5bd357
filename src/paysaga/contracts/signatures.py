"""Webhook and callback signatures, Stripe-style (a wire contract: signer and verifier share it).

`Paysaga-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of f"{t}.{raw body}" with the shared secret>`

The receiver recomputes the HMAC over the raw request body bytes and the `t` it was sent,
compares in constant time and rejects timestamps too far from its clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

SIGNATURE_HEADER = "Paysaga-Signature"
DEFAULT_TOLERANCE_SECONDS = 300

# ASCII only: str.isdigit() also takes "²" (which int() refuses) and other scripts' digits, and
# hmac.compare_digest raises on non-ASCII text. Twelve digits are ample for unix seconds.
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_HEX_RE = re.compile(r"[0-9a-fA-F]{1,128}")


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `Paysaga-Signature` header value for `body`, signed now unless `timestamp` is given."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_signature(secret, t, body)}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> bool:
    """True when one `v1` of `header` signs `body` and its `t` is within the tolerance of `now`."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _TIMESTAMP_RE.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and _HEX_RE.fullmatch(value):
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
