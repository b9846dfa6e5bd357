"""Callback delivery: the signature, the body, retries with backoff until a 2xx."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
import uuid
from datetime import datetime

import pytest

from tests.integration.services.provider_sim.conftest import (
    SECRET,
    Receiver,
    Sim,
    bound_socket,
    eventually,
    running_sim,
    url_of,
)

pytestmark = pytest.mark.integration


def new_payment_id() -> str:
    return str(uuid.uuid4())


def verify(header: str, body: bytes, secret: str = SECRET) -> bool:
    """The receiver's check, written from the contract alone."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    t = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - t) < 300 and hmac.compare_digest(expected, parts["v1"])


async def create(sim: Sim, callback_url: str | None = None, answers: list[int] | None = None) -> str:
    """A payout whose callbacks the receiver first answers with `answers`, then 200."""
    payment_id = new_payment_id()
    sim.receiver.script(payment_id, answers or [])
    body = sim.payout_body(payment_id)
    if callback_url is not None:
        body["callbackUrl"] = callback_url
    response = await sim.client.post("/v1/payouts", json=body)
    assert response.status_code == 201, response.text
    return response.json()["providerTxnId"]


async def test_callback_is_signed_and_carries_the_contract_fields(sim: Sim) -> None:
    payment_id = new_payment_id()
    response = await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id))
    txn_id = response.json()["providerTxnId"]
    [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))

    assert callback.headers["content-type"] == "application/json"
    signature = callback.headers["paysaga-signature"]
    assert signature.startswith("t=") and ",v1=" in signature
    assert verify(signature, callback.body)
    assert not verify(signature, callback.body, secret="some-other-secret-some-other-secret")
    assert not verify(signature, callback.body.replace(b"SUCCESS", b"FAILED"))

    body = callback.json()
    assert set(body) == {"callbackId", "providerTxnId", "paymentId", "status", "amount", "currency", "occurredAt"}
    assert body["callbackId"].startswith("cb_")
    assert (body["providerTxnId"], body["paymentId"], body["status"]) == (txn_id, payment_id, "SUCCESS")
    assert (body["amount"], body["currency"]) == (12_345, "RUB")
    assert datetime.fromisoformat(body["occurredAt"]).tzinfo is not None


async def test_retries_until_the_receiver_answers_2xx_with_the_same_callback_id(sim: Sim) -> None:
    txn_id = await create(sim, answers=[500, 503, 404])
    attempts = await eventually(lambda: _delivered(sim, txn_id))

    assert [a["statusCode"] for a in attempts] == [500, 503, 404, 200]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert [a["delivered"] for a in attempts] == [False, False, False, True]
    assert [a["nextRetrySeconds"] for a in attempts] == [0.02, 0.04, 0.08, None]
    received = sim.receiver.for_txn(txn_id)
    assert len(received) == 4
    assert len({r.body for r in received}) == 1  # the same callback, the same callbackId
    assert len({a["callbackId"] for a in attempts}) == 1
    assert all(verify(r.headers["paysaga-signature"], r.body) for r in received)
    gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
    assert all(gap >= expected * 0.9 for gap, expected in zip(gaps, [0.02, 0.04, 0.08], strict=True))


async def test_backoff_is_capped(sim: Sim) -> None:
    txn_id = await create(sim, answers=[500] * 4)
    attempts = await eventually(lambda: _delivered(sim, txn_id))
    # initial 0.02, doubling, cap 0.1 (test settings)
    assert [a["nextRetrySeconds"] for a in attempts] == [0.02, 0.04, 0.08, 0.1, None]


async def test_retries_network_errors_until_the_receiver_is_up() -> None:
    receiver = Receiver(sock=bound_socket())  # bound, not listening: connection refused
    async with running_sim(receiver) as sim:
        try:
            txn_id = await create(sim)
            await eventually(lambda: _count(sim, txn_id, 2))
            await receiver.start()
            attempts = await eventually(lambda: _delivered(sim, txn_id), timeout=5)
        finally:
            await receiver.stop()
    assert attempts[0]["statusCode"] is None and "Cannot connect" in attempts[0]["error"]
    assert attempts[-1]["statusCode"] == 200 and attempts[-1]["error"] is None
    assert len(receiver.for_txn(txn_id)) == 1


async def test_gives_up_after_the_maximum_attempts(sim: Sim) -> None:
    txn_id = await create(sim, answers=[500] * 100)
    attempts = await eventually(lambda: _last(sim, txn_id))
    assert len(attempts) == 5  # callback_max_attempts in the test settings
    assert not any(a["delivered"] for a in attempts)
    assert len(sim.receiver.for_txn(txn_id)) == 5
    assert await sim.status(txn_id) == "SUCCESS"  # the provider's truth, even when the callback failed


async def test_callback_to_a_closed_port_is_recorded_as_an_error(sim: Sim) -> None:
    closed = bound_socket()
    try:
        txn_id = await create(sim, url_of(closed) + "/callbacks")
        attempts = await eventually(lambda: _last(sim, txn_id))
    finally:
        closed.close()
    assert all(a["statusCode"] is None and a["error"] for a in attempts)


async def test_callback_carries_the_traceparent_of_the_request(sim: Sim) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = await sim.client.post(
        "/v1/payouts", json=sim.payout_body(new_payment_id()), headers={"traceparent": traceparent}
    )
    txn_id = response.json()["providerTxnId"]
    [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))
    assert callback.headers["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


async def test_another_secret_is_used_when_configured(receiver: Receiver) -> None:
    secret = "another-configured-secret-0123456789abcdef"
    async with running_sim(receiver, callback_secret=secret) as sim:
        txn_id = await create(sim)
        [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))
    assert verify(callback.headers["paysaga-signature"], callback.body, secret=secret)
    assert not verify(callback.headers["paysaga-signature"], callback.body)


async def _delivered(sim: Sim, txn_id: str) -> list[dict] | None:
    attempts = await sim.attempts(txn_id)
    return attempts if attempts and attempts[-1]["delivered"] else None


async def _last(sim: Sim, txn_id: str) -> list[dict] | None:
    attempts = await sim.attempts(txn_id)
    return attempts if attempts and attempts[-1]["nextRetrySeconds"] is None else None


async def _count(sim: Sim, txn_id: str, n: int) -> bool:
    return len(await sim.attempts(txn_id)) >= n
