"""The bank's payout API: creation, idempotency on paymentId, status inquiry, errors as problems."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest

from tests.integration.services.provider_sim.conftest import Sim, eventually

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def new_payment_id() -> str:
    return str(uuid.uuid4())


async def test_payout_is_created_processing_then_succeeds(sim: Sim) -> None:
    payment_id = new_payment_id()
    response = await sim.client.post(
        "/v1/payouts", json=sim.payout_body(payment_id), headers={"Idempotency-Key": payment_id}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"providerTxnId", "status"}
    assert body["status"] == "PROCESSING"
    txn_id = body["providerTxnId"]
    assert txn_id.startswith("ptx_") and len(txn_id) == 4 + 32
    assert response.headers["Location"] == f"/v1/payouts/{txn_id}"
    assert "Idempotent-Replayed" not in response.headers

    await eventually(lambda: sim.receiver.for_txn(txn_id))
    inquiry = await sim.client.get(f"/v1/payouts/{txn_id}")
    assert inquiry.json() == {"providerTxnId": txn_id, "paymentId": payment_id, "status": "SUCCESS"}
    assert await sim.sim_payout(payment_id) == {
        "paymentId": payment_id,
        "requests": 1,
        "created": 1,
        "providerTxnId": txn_id,
        "status": "SUCCESS",
        "outcome": "SUCCESS",
        "declined": False,
        "errorsServed": 0,
    }


async def test_each_payment_gets_its_own_txn_id(sim: Sim) -> None:
    ids = set()
    for _ in range(3):
        response = await sim.client.post("/v1/payouts", json=sim.payout_body(new_payment_id()))
        assert response.status_code == 201
        ids.add(response.json()["providerTxnId"])
    assert len(ids) == 3


async def test_repeated_payment_id_returns_the_same_txn_and_creates_one_payout(sim: Sim) -> None:
    payment_id = new_payment_id()
    body = sim.payout_body(payment_id)
    first = await sim.client.post("/v1/payouts", json=body)
    again = await sim.client.post("/v1/payouts", json=body, headers={"Idempotency-Key": payment_id})
    concurrent = await asyncio.gather(*(sim.client.post("/v1/payouts", json=body) for _ in range(20)))

    assert first.status_code == 201
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert {r.status_code for r in concurrent} == {201}
    assert {r.json()["providerTxnId"] for r in concurrent} == {first.json()["providerTxnId"]}
    entry = await sim.sim_payout(payment_id)
    assert (entry["requests"], entry["created"]) == (22, 1)

    # One payout → one callback, however often it was requested.
    txn_id = first.json()["providerTxnId"]
    attempts = await eventually(lambda: sim.attempts(txn_id))
    assert [a["delivered"] for a in attempts] == [True]
    assert len(sim.receiver.for_txn(txn_id)) == 1


async def test_concurrent_first_requests_create_one_payout(sim: Sim) -> None:
    payment_id = new_payment_id()
    body = sim.payout_body(payment_id)
    responses = await asyncio.gather(*(sim.client.post("/v1/payouts", json=body) for _ in range(30)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["providerTxnId"] for r in responses}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    entry = await sim.sim_payout(payment_id)
    assert (entry["requests"], entry["created"]) == (30, 1)


async def test_same_payment_id_with_another_body_is_a_conflict(sim: Sim) -> None:
    payment_id = new_payment_id()
    first = await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id))
    other = await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id, amount=99))
    assert first.status_code == 201
    assert other.status_code == 409
    assert other.headers["content-type"].startswith(PROBLEM)
    assert other.json()["type"].endswith("/idempotency-conflict")
    assert (await sim.sim_payout(payment_id))["created"] == 1


async def test_idempotency_key_other_than_payment_id_is_rejected(sim: Sim) -> None:
    payment_id = new_payment_id()
    response = await sim.client.post(
        "/v1/payouts", json=sim.payout_body(payment_id), headers={"Idempotency-Key": "something-else"}
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-mismatch")
    assert (await sim.sim_payout(payment_id))["created"] == 0


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 0},
        {"amount": "100"},
        {"currency": "XXY"},
        {"callbackUrl": "not a url"},
        {"paymentId": ""},
        {"recipient": {"accountNumber": "1", "bankBic": "044525225"}},
    ],
)
async def test_invalid_payout_requests_are_422_problems(sim: Sim, change: dict) -> None:
    before = (await sim.client.get("/_sim/payouts")).json()
    response = await sim.client.post("/v1/payouts", json=sim.payout_body(new_payment_id(), **change))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/validation-error")
    assert (await sim.client.get("/_sim/payouts")).json() == before


async def test_inquiry_of_an_unknown_txn_is_404_problem(sim: Sim) -> None:
    response = await sim.client.get("/v1/payouts/ptx_unknown")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/not-found")


async def test_sim_payouts_lists_everything_or_one_payment(sim: Sim) -> None:
    a, b = new_payment_id(), new_payment_id()
    for payment_id in (a, b):
        assert (await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id))).status_code == 201
    everything = (await sim.client.get("/_sim/payouts")).json()
    assert {a, b} <= {e["paymentId"] for e in everything}
    [only_a] = (await sim.client.get("/_sim/payouts", params={"paymentId": a})).json()
    assert only_a["paymentId"] == a
    assert (await sim.client.get("/_sim/payouts", params={"paymentId": "nope"})).json() == []


async def test_rules_can_be_set_read_and_reset(sim: Sim) -> None:
    assert (await sim.client.get("/_sim/rules")).json() == {"rules": []}
    rules = [
        {"accountNumber": "111", "outcome": "FAILED", "delayMs": 5, "failTimes": 1},
        {"accountNumber": "*", "outcome": "ERROR_500", "delayMs": None, "failTimes": 2},
    ]
    put = await sim.client.put("/_sim/rules", json={"rules": rules})
    assert put.status_code == 200 and put.json() == {"rules": rules}
    assert (await sim.client.get("/_sim/rules")).json() == {"rules": rules}
    reset = await sim.client.delete("/_sim/rules")
    assert reset.status_code == 200 and reset.json() == {"rules": []}
    assert (await sim.client.get("/_sim/rules")).json() == {"rules": []}


async def test_invalid_rules_are_rejected_and_keep_the_old_ones(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": "*", "outcome": "FAILED"})
    response = await sim.client.put("/_sim/rules", json={"rules": [{"accountNumber": "*", "outcome": "NOPE"}]})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert (await sim.client.get("/_sim/rules")).json()["rules"][0]["outcome"] == "FAILED"


async def test_health_and_openapi(sim: Sim) -> None:
    health = (await sim.client.get("/healthz")).json()
    assert health == {"status": "ok", "instance": f"{socket.gethostname()}/{os.getpid()}"}  # in-process app
    assert (await sim.client.get("/readyz")).status_code == 200
    paths = (await sim.client.get("/openapi.json")).json()["paths"]
    assert {"/v1/payouts", "/v1/payouts/{provider_txn_id}", "/_sim/rules", "/_sim/payouts", "/_sim/callbacks"} <= set(
        paths
    )
    assert paths["/v1/payouts"]["post"]["summary"]
