"""Each scripted outcome, as the Payment service would meet it."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.services.provider_sim.conftest import Sim, eventually

pytestmark = pytest.mark.integration

ACCOUNT = "40817810000000000042"
OTHER = "40817810000000000099"


def new_payment_id() -> str:
    return str(uuid.uuid4())


async def create(sim: Sim, payment_id: str, account: str = ACCOUNT) -> str:
    response = await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id, account))
    assert response.status_code == 201, response.text
    return response.json()["providerTxnId"]


async def test_success_sends_one_success_callback(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "SUCCESS", "delayMs": 0})
    payment_id = new_payment_id()
    txn_id = await create(sim, payment_id)
    [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))
    body = callback.json()
    assert body["status"] == "SUCCESS"
    assert (body["paymentId"], body["amount"], body["currency"]) == (payment_id, 12_345, "RUB")
    assert await sim.status(txn_id) == "SUCCESS"


async def test_failed_sends_a_failed_callback_and_inquiry_says_failed(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "FAILED", "delayMs": 0})
    txn_id = await create(sim, new_payment_id())
    [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))
    assert callback.json()["status"] == "FAILED"
    assert await sim.status(txn_id) == "FAILED"


async def test_status_stays_processing_until_the_delay_has_passed(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "FAILED", "delayMs": 300})
    txn_id = await create(sim, new_payment_id())
    assert await sim.status(txn_id) == "PROCESSING"
    await eventually(lambda: sim.receiver.for_txn(txn_id))
    assert await sim.status(txn_id) == "FAILED"


async def test_decline_answers_422_and_creates_nothing(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "DECLINE"})
    payment_id = new_payment_id()
    for _ in range(2):  # a retry gets the same answer
        response = await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id, ACCOUNT))
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("payout-declined")
    entry = await sim.sim_payout(payment_id)
    assert (entry["requests"], entry["created"], entry["declined"], entry["providerTxnId"]) == (2, 0, True, None)


async def test_error_500_fails_the_first_calls_then_creates_the_payout_once(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "ERROR_500", "failTimes": 2, "delayMs": 0})
    payment_id = new_payment_id()
    body = sim.payout_body(payment_id, ACCOUNT)
    codes = []
    txn_ids = set()
    for _ in range(4):  # the caller retrying with the same paymentId
        response = await sim.client.post("/v1/payouts", json=body, headers={"Idempotency-Key": payment_id})
        codes.append(response.status_code)
        if response.status_code == 201:
            txn_ids.add(response.json()["providerTxnId"])
        else:
            assert response.json()["type"].endswith("/provider-unavailable")
    assert codes == [500, 500, 201, 201]
    [txn_id] = txn_ids
    entry = await sim.sim_payout(payment_id)
    assert (entry["requests"], entry["created"], entry["errorsServed"]) == (4, 1, 2)
    attempts = await eventually(lambda: sim.attempts(txn_id))
    assert [a["delivered"] for a in attempts] == [True]
    [callback] = sim.receiver.for_txn(txn_id)
    assert callback.json()["status"] == "SUCCESS"
    assert await sim.status(txn_id) == "SUCCESS"


async def test_lost_response_makes_the_payout_but_the_first_answers_are_500(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "LOST_RESPONSE", "failTimes": 2, "delayMs": 0})
    payment_id = new_payment_id()
    body = sim.payout_body(payment_id, ACCOUNT)
    codes = []
    for _ in range(3):
        response = await sim.client.post("/v1/payouts", json=body, headers={"Idempotency-Key": payment_id})
        codes.append(response.status_code)
    assert codes == [500, 500, 201]
    txn_id = response.json()["providerTxnId"]
    entry = await sim.sim_payout(payment_id)
    assert (entry["requests"], entry["created"], entry["errorsServed"]) == (3, 1, 2)
    # The payout was made on the first call: its callback went out while the caller saw only 500s.
    [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))
    assert (callback.json()["status"], callback.json()["paymentId"]) == ("SUCCESS", payment_id)
    assert await sim.status(txn_id) == "SUCCESS"


async def test_error_500_fails_once_by_default(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": "*", "outcome": "ERROR_500"})
    body = sim.payout_body(new_payment_id())
    assert (await sim.client.post("/v1/payouts", json=body)).status_code == 500
    assert (await sim.client.post("/v1/payouts", json=body)).status_code == 201


async def test_no_callback_stays_processing(sim: Sim) -> None:
    await sim.set_rules(
        {"accountNumber": ACCOUNT, "outcome": "NO_CALLBACK", "delayMs": 0},
        {"accountNumber": OTHER, "outcome": "SUCCESS", "delayMs": 100},
    )
    silent = await create(sim, new_payment_id(), ACCOUNT)
    # A later payout with a longer delay: once its callback is in, the first one's would be too.
    sentinel = await create(sim, new_payment_id(), OTHER)
    await eventually(lambda: sim.receiver.for_txn(sentinel))
    assert sim.receiver.for_txn(silent) == []
    assert await sim.attempts(silent) == []
    assert await sim.status(silent) == "PROCESSING"


async def test_duplicate_callback_sends_success_twice_with_different_callback_ids(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "DUPLICATE_CALLBACK", "delayMs": 0})
    txn_id = await create(sim, new_payment_id())
    callbacks = await eventually(lambda: len(sim.receiver.for_txn(txn_id)) == 2 and sim.receiver.for_txn(txn_id))
    first, second = (c.json() for c in callbacks)
    assert first["status"] == second["status"] == "SUCCESS"
    assert first["callbackId"] != second["callbackId"]
    assert first["providerTxnId"] == second["providerTxnId"] == txn_id
    assert await sim.status(txn_id) == "SUCCESS"
    assert (await sim.sim_payout(first["paymentId"]))["created"] == 1


async def test_late_success_is_processing_until_the_delay_then_success(sim: Sim) -> None:
    await sim.set_rules(
        {"accountNumber": ACCOUNT, "outcome": "LATE_SUCCESS", "delayMs": 600_000},
        {"accountNumber": OTHER, "outcome": "LATE_SUCCESS", "delayMs": 300},
    )
    late = await create(sim, new_payment_id(), ACCOUNT)
    sooner = await create(sim, new_payment_id(), OTHER)  # created after it, due long before it
    [callback] = await eventually(lambda: sim.receiver.for_txn(sooner), timeout=30)
    assert callback.json()["status"] == "SUCCESS"
    assert await sim.status(sooner) == "SUCCESS"
    # The one with the longer delay is still waiting for it: no callback, no attempt, still processing.
    assert sim.receiver.for_txn(late) == []
    assert await sim.attempts(late) == []
    assert await sim.status(late) == "PROCESSING"


async def test_late_success_no_callback_settles_but_never_calls_back(sim: Sim) -> None:
    await sim.set_rules(
        {"accountNumber": ACCOUNT, "outcome": "LATE_SUCCESS_NO_CALLBACK", "delayMs": 100},
        {"accountNumber": OTHER, "outcome": "SUCCESS", "delayMs": 300},
    )
    silent = await create(sim, new_payment_id(), ACCOUNT)
    assert await sim.status(silent) == "PROCESSING"
    # A later payout with a longer delay: once its callback is in, the first one's would be too.
    sentinel = await create(sim, new_payment_id(), OTHER)
    await eventually(lambda: sim.receiver.for_txn(sentinel))
    assert await sim.status(silent) == "SUCCESS"  # the inquiry tells what no callback did
    assert sim.receiver.for_txn(silent) == []
    assert await sim.attempts(silent) == []


async def test_late_success_without_delay_uses_the_late_default(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": ACCOUNT, "outcome": "LATE_SUCCESS"})
    payment_id = new_payment_id()
    txn_id = await create(sim, payment_id)
    assert (await sim.sim_payout(payment_id))["outcome"] == "LATE_SUCCESS"
    assert await sim.status(txn_id) == "PROCESSING"  # the test settings' late default is 3 s


async def test_exact_account_rule_beats_wildcard(sim: Sim) -> None:
    await sim.set_rules(
        {"accountNumber": "*", "outcome": "DECLINE"},
        {"accountNumber": ACCOUNT, "outcome": "FAILED", "delayMs": 0},
    )
    assert (await sim.client.post("/v1/payouts", json=sim.payout_body(new_payment_id(), OTHER))).status_code == 422
    txn_id = await create(sim, new_payment_id(), ACCOUNT)
    [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))
    assert callback.json()["status"] == "FAILED"


async def test_reset_rules_restores_the_default_success(sim: Sim) -> None:
    await sim.set_rules({"accountNumber": "*", "outcome": "DECLINE"})
    assert (await sim.client.delete("/_sim/rules")).status_code == 200
    txn_id = await create(sim, new_payment_id())
    [callback] = await eventually(lambda: sim.receiver.for_txn(txn_id))
    assert callback.json()["status"] == "SUCCESS"


async def test_rules_apply_when_the_payout_is_created_not_on_replay(sim: Sim) -> None:
    payment_id = new_payment_id()
    txn_id = await create(sim, payment_id)
    await sim.set_rules({"accountNumber": "*", "outcome": "DECLINE"})
    replay = await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id, ACCOUNT))
    assert replay.status_code == 201 and replay.json()["providerTxnId"] == txn_id
