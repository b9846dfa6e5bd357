"""`python -m paysaga.devstack.identity_cost`: what service identity (SPEC §11) costs, in CPU.

Times an internal HTTP request through a whole app (ASGI, no socket) to a route that checks its
caller's identity token against the same route without the check, both sides of it (the caller
adds its cached token, the callee verifies it from its cache), the gRPC Check's verification, and
the cold paths (signing a token, verifying one never seen) that run once per caller, audience and
token lifetime. `make bench` measures the platform as a whole; this isolates the identity's part.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from starlette.types import Message

from paysaga.contracts.identities import BFF, CALLERS, PAYMENT
from paysaga.platform.http import create_app
from paysaga.platform.identity import ServiceIdentity, ServiceVerifier, new_private_key_text, service_keys_text
from paysaga.platform.logging import configure_logging
from paysaga.platform.service_auth import callers, protect

# Per payment, the internal calls that carry an identity: the BFF's reservation on Wallet and
# Payment's Check on Anti-Fraud; each status view the customer asks for is one more (BFF → Query).
PER_PAYMENT = {"http": 1, "grpc": 1}


def per_call_us(fn: Callable[[], object], n: int = 100_000) -> float:
    for _ in range(1000):
        fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n * 1e6


def http_request_us(identity: ServiceIdentity | None, verifier: ServiceVerifier, n: int = 20_000) -> float:
    """One POST through the app's whole ASGI stack: with `identity`, the caller adds its token and
    the route checks it; without, the same route unprotected."""
    app = create_app(title="bench", description="bench")
    protect(app, verifier)
    guard = [callers(BFF)] if identity is not None else []

    @app.post("/v1/users/{user_id}/reservations", dependencies=guard)
    async def reserve(user_id: str) -> dict[str, str]:
        return {"userId": user_id}

    user = str(uuid.uuid4())
    path = f"/v1/users/{user}/reservations"

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def scope() -> dict[str, object]:
        headers = [(b"host", b"bench")]
        if identity is not None:  # the caller's side: its token for this audience, from its cache
            headers.append((b"authorization", identity.authorization("wallet").encode()))
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }

    async def run() -> float:
        for _ in range(500):
            await app(scope(), receive, send)
        started = time.process_time()
        for _ in range(n):
            await app(scope(), receive, send)
        return (time.process_time() - started) / n * 1e6

    took = asyncio.run(run())
    if set(statuses) != {200}:
        raise RuntimeError(f"the benchmark's requests were refused: {sorted(set(statuses))}")
    return took


def main() -> None:
    configure_logging("bench", level="WARNING", fmt="console")  # the request log would dwarf the rest
    keys = {name: new_private_key_text() for name in CALLERS}
    verifier = ServiceVerifier.from_text("wallet", service_keys_text(keys))
    bff = ServiceIdentity.from_text(BFF, keys[BFF])
    payment = ServiceIdentity.from_text(PAYMENT, keys[PAYMENT])

    # Alternated and the best of three each: the VM's noise is larger than the difference.
    runs = [(http_request_us(bff, verifier), http_request_us(None, verifier)) for _ in range(3)]
    http_with, http_without = min(w for w, _ in runs), min(wo for _, wo in runs)
    http = http_with - http_without

    antifraud = ServiceVerifier.from_text("antifraud", service_keys_text(keys))
    token = payment.token("antifraud")
    grpc = per_call_us(lambda: (payment.authorization("antifraud"), antifraud.caller(token)))

    def cold_sign() -> str:
        payment._tokens.clear()
        return payment.token("antifraud")

    sign = per_call_us(cold_sign, n=5_000)
    fresh = [ServiceIdentity.from_text(PAYMENT, keys[PAYMENT]).token(f"aud-{i}") for i in range(2_000)]
    cold = ServiceVerifier.from_text("x", service_keys_text(keys))
    started = time.process_time()
    for i, t in enumerate(fresh):
        cold.audience = f"aud-{i}"
        cold.caller(t)
    verify = (time.process_time() - started) / len(fresh) * 1e6

    per_payment = PER_PAYMENT["http"] * http + PER_PAYMENT["grpc"] * grpc
    print("Service identity, CPU per call (this process; best of 3 for the HTTP figures)")
    print(f"  internal HTTP request, caller's token + callee's check: {http:7.1f} µs"
          f"   ({http_with:.1f} µs with, {http_without:.1f} µs without)")  # fmt: skip
    print(f"  gRPC Check, token + verification (cached):             {grpc:7.1f} µs")
    print(f"  signing a new token (once per audience every ~4 min):  {sign:7.1f} µs")
    print(f"  verifying a token first seen (once per token):         {verify:7.1f} µs")
    print(f"per payment ({PER_PAYMENT['http']} HTTP call, {PER_PAYMENT['grpc']} gRPC call): {per_payment:.1f} µs;"
          f" each status view the customer asks for adds {http:.1f} µs")  # fmt: skip


if __name__ == "__main__":
    main()
