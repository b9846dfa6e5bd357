"""Every path of the payment saga through the BFF (SPEC §4), each followed by SPEC §5's invariants."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from paysaga.contracts.bus import EXPECTED_SOURCES
from paysaga.contracts.signatures import SIGNATURE_HEADER, signature_header
from paysaga.contracts.topics import CALLBACK_EVENTS, CUSTOMER_EVENTS, PAYMENT_EVENTS, WALLET_EVENTS
from tests.support.infra import Infra
from tests.support.kafka import read_topic
from tests.support.platform import RunningPlatform
from tests.support.saga import Customer, check_invariants, new_account, register, wait_for_cases, wait_for_log

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as c:
        yield c


@pytest.fixture
def sim(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as c:
        c.delete("/_sim/rules")
        yield c
        c.delete("/_sim/rules")


@pytest.fixture
def customer(client: httpx.Client) -> Customer:
    return register(client, top_up=1_000_000)


def rule(sim: httpx.Client, account: str, outcome: str, **extra: object) -> None:
    response = sim.put("/_sim/rules", json={"rules": [{"accountNumber": account, "outcome": outcome, **extra}]})
    assert response.status_code == 200, response.text


def pay(customer: Customer, amount: int, account: str) -> str:
    response = customer.pay(amount, account)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "PENDING"
    assert response.headers["location"] == f"/api/v1/payments/{body['paymentId']}"
    return body["paymentId"]


def provider_requests(sim: httpx.Client, payment_id: str) -> int:
    return sum(p["requests"] for p in sim.get("/_sim/payouts", params={"paymentId": payment_id}).json())


async def test_success(customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform) -> None:
    account = new_account()
    rule(sim, account, "SUCCESS", delayMs=2000)  # held at the provider: the payment stays pending a while
    pid = pay(customer, 150_00, account)
    pending = customer.wallet()
    # While pending, the money is reserved, not gone.
    assert (pending["balance"], pending["reserved"], pending["available"]) == (1_000_000, 150_00, 1_000_000 - 150_00)
    view = customer.wait_final(pid)
    assert view["status"] == "COMPLETED"
    assert view["providerTxnId"] and view["errorCode"] is None
    assert view["amount"] == 150_00 and view["currency"] == "RUB"
    assert view["recipient"]["accountNumber"] == account
    wallet = customer.settled_wallet()
    assert (wallet["balance"], wallet["reserved"], wallet["available"]) == (1_000_000 - 150_00, 0, 1_000_000 - 150_00)
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_fraud_deny(customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform) -> None:
    account = new_account()
    blocked = httpx.put(f"{platform.url('antifraud')}/v1/blocklist/{account}", auth=platform.auth("antifraud"))
    assert blocked.status_code in (200, 201, 204), blocked.text
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid)
    assert (view["status"], view["errorCode"], view["providerTxnId"]) == ("FAILED", "FRAUD_SUSPECTED", None)
    assert provider_requests(sim, pid) == 0  # never sent to the provider
    assert customer.settled_wallet()["available"] == 1_000_000
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_provider_decline(customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform) -> None:
    account = new_account()
    rule(sim, account, "DECLINE")
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid)
    assert (view["status"], view["errorCode"], view["providerTxnId"]) == ("FAILED", "PROVIDER_REJECTED", None)
    [payout] = sim.get("/_sim/payouts", params={"paymentId": pid}).json()
    assert (payout["requests"], payout["declined"], payout["created"]) == (1, True, 0)  # a decline is not retried
    assert customer.settled_wallet()["available"] == 1_000_000
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_provider_failed_callback(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    rule(sim, account, "FAILED")
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid)
    assert (view["status"], view["errorCode"]) == ("FAILED", "PROVIDER_DECLINED")
    assert view["providerTxnId"]
    assert customer.settled_wallet()["available"] == 1_000_000
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_transient_provider_errors_then_success(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    rule(sim, account, "ERROR_500", failTimes=3)
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid)
    assert view["status"] == "COMPLETED"
    payouts = sim.get("/_sim/payouts", params={"paymentId": pid}).json()
    assert sum(p["requests"] for p in payouts) == 4  # three 500s, then accepted: retried with the same key
    assert sum(p["created"] for p in payouts) == 1
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_duplicate_callbacks_complete_once(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    rule(sim, account, "DUPLICATE_CALLBACK")
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid)
    assert view["status"] == "COMPLETED"
    txn = view["providerTxnId"]
    callbacks: list[dict] = []
    deadline = time.monotonic() + 10
    while len({c["callbackId"] for c in callbacks if c["delivered"]}) < 2:  # two callbacks, not one retried
        assert time.monotonic() < deadline, f"the simulator did not deliver two distinct callbacks: {callbacks}"
        time.sleep(0.1)
        callbacks = sim.get("/_sim/callbacks", params={"providerTxnId": txn}).json()
    # Payment handled the second callback (the simulator's second copy, not a retry of the first).
    wait_for_log(infra.root / "logs" / "payment.log", "payment.duplicate_callback", payment_id=pid)
    assert customer.payment(pid)["status"] == "COMPLETED"
    wallet = customer.settled_wallet()
    assert (wallet["balance"], wallet["reserved"]) == (1_000_000 - 100_00, 0)  # paid once
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_callback_before_the_provider_txn_id_is_stored(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    # The simulator sends the SUCCESS callback, waits for it to be acknowledged, and only then
    # answers the payout request: Payment learns the outcome before it knows the txn id.
    rule(sim, account, "CALLBACK_BEFORE_RESPONSE", delayMs=1500)
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid)
    assert view["status"] == "COMPLETED"
    txn = view["providerTxnId"]
    wait_for_log(infra.root / "logs" / "payment.log", "payment.callback_before_txn_id", provider_txn_id=txn)
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_timeout_after_an_inquiry_that_says_processing(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    rule(sim, account, "NO_CALLBACK")
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid, timeout=30)
    assert (view["status"], view["errorCode"]) == ("FAILED", "TIMEOUT")
    assert view["providerTxnId"]  # it was submitted; the provider never gave a final answer
    state = httpx.get(f"{platform.url('payment')}/v1/payments/{pid}", auth=platform.auth("payment")).json()
    assert state["status"] == "FAILED"
    assert state["lastError"] == "inquiry: PROCESSING"  # it asked before giving up
    assert state["attempts"] >= 2
    assert customer.settled_wallet()["available"] == 1_000_000
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_late_success_after_timeout_is_a_reconciliation_case(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    rule(sim, account, "LATE_SUCCESS", delayMs=9000)  # after the 6 s deadline of the test platform
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid, timeout=30)
    assert (view["status"], view["errorCode"]) == ("FAILED", "TIMEOUT")
    cases = wait_for_cases(platform, pid, "the late success was not recorded")
    assert cases[0]["kind"] == "LATE_SUCCESS"
    assert cases[0]["callbackStatus"] == "SUCCESS" and cases[0]["paymentStatus"] == "FAILED"
    assert customer.payment(pid)["status"] == "FAILED"  # a final state never changes
    logs = (infra.root / "logs" / "payment.log").read_text()
    assert any(
        "payment.reconciliation_case" in line and '"error"' in line and pid in line for line in logs.splitlines()
    )
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_a_success_after_timeout_whose_callback_is_lost_is_found_by_inquiry(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    # Still PROCESSING at the 6 s deadline; the provider pays at 8 s and its callback never comes.
    rule(sim, account, "LATE_SUCCESS_NO_CALLBACK", delayMs=8000)
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid, timeout=30)
    assert (view["status"], view["errorCode"]) == ("FAILED", "TIMEOUT")
    txn = view["providerTxnId"]
    cases = wait_for_cases(platform, pid, "the payout made after the timeout was never found")
    assert [(c["kind"], c["providerTxnId"], c["callbackStatus"]) for c in cases] == [("LATE_SUCCESS", txn, "SUCCESS")]
    assert sim.get("/_sim/callbacks", params={"providerTxnId": txn}).json() == []  # no callback told us
    state = httpx.get(f"{platform.url('payment')}/v1/payments/{pid}", auth=platform.auth("payment")).json()
    assert (state["status"], state["errorCode"], state["lateInquiryAt"]) == ("FAILED", "TIMEOUT", None)
    assert customer.settled_wallet()["available"] == 1_000_000  # released; the case is for a human
    wait_for_log(infra.root / "logs" / "payment.log", "payment.late_inquiry_answered", payment_id=pid)
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_answers_lost_until_the_deadline_then_the_unclaimed_success_is_a_reconciliation_case(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    account = new_account()
    # The provider makes the payout on the first POST and calls back at once, but every answer to
    # Payment is lost (500): Payment retries until the 6 s deadline and fails it with TIMEOUT without
    # ever learning the txn id, so the SUCCESS callback matches no payment.
    rule(sim, account, "LOST_RESPONSE", failTimes=1000, delayMs=0)
    pid = pay(customer, 100_00, account)
    view = customer.wait_final(pid, timeout=30)
    assert (view["status"], view["errorCode"], view["providerTxnId"]) == ("FAILED", "TIMEOUT", None)
    [payout] = sim.get("/_sim/payouts", params={"paymentId": pid}).json()
    assert payout["created"] == 1 and payout["status"] == "SUCCESS" and payout["errorsServed"] >= 2
    txn = payout["providerTxnId"]
    cases = wait_for_cases(platform, pid, "the unclaimed success was never matched to its payment")
    assert [(c["kind"], c["providerTxnId"], c["callbackStatus"]) for c in cases] == [("LATE_SUCCESS", txn, "SUCCESS")]
    state = httpx.get(f"{platform.url('payment')}/v1/payments/{pid}", auth=platform.auth("payment")).json()
    assert (state["status"], state["errorCode"], state["providerTxnId"]) == ("FAILED", "TIMEOUT", txn)
    assert customer.settled_wallet()["available"] == 1_000_000  # released; the case is for a human
    logs = (infra.root / "logs" / "payment.log").read_text()
    assert any("payment.orphan_callback_matched" in line and pid in line for line in logs.splitlines())
    assert any(  # flagged at the timeout already: every submission had gone unanswered
        "payment.timeout_unconfirmed_submission" in line and '"error"' in line and pid in line
        for line in logs.splitlines()
    )
    assert any(
        "payment.reconciliation_case" in line and '"error"' in line and pid in line for line in logs.splitlines()
    )
    await check_invariants(infra, platform.url("provider_sim"), [pid])


async def test_every_record_carries_the_source_of_the_service_that_produced_it(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    """ce_source is set once per service, in its composition root: the records of one customer's
    saga (its top-up, a completed and a failed payment) name the service that publishes each type."""
    paid, declined = new_account(), new_account()
    rule(sim, declined, "FAILED")
    completed = customer.wait_final(pay(customer, 10_00, paid))
    failed = customer.wait_final(pay(customer, 11_00, declined))
    assert (completed["status"], failed["errorCode"]) == ("COMPLETED", "PROVIDER_DECLINED")
    producers = EXPECTED_SOURCES  # the contract: each type's publisher
    ours = {
        CUSTOMER_EVENTS: {customer.user_id},
        PAYMENT_EVENTS: {completed["paymentId"], failed["paymentId"]},
        CALLBACK_EVENTS: {completed["providerTxnId"], failed["providerTxnId"]},
        WALLET_EVENTS: {customer.wallet()["walletId"]},
    }
    seen = [
        (r.headers["ce_type"], r.headers["ce_source"])
        for topic, keys in ours.items()
        for r in read_topic(infra.kafka, topic)
        if r.key in keys
    ]
    assert {t for t, _ in seen} == set(producers), seen
    assert [(t, s) for t, s in seen if producers[t] != s] == []


async def test_a_forged_failed_callback_releases_nothing_while_the_provider_pays(
    customer: Customer, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> None:
    """A correctly signed FAILED callback (a leaked secret, a confused provider; signed here with the
    platform's own secret) for a payout the provider is still making: Payment asks the provider,
    which says PROCESSING, then SUCCESS; the money is paid out once, never released, and the false
    report is a reconciliation case."""
    account = new_account()
    rule(sim, account, "SUCCESS", delayMs=4000)
    pid = pay(customer, 120_00, account)
    deadline = time.monotonic() + 15
    while not (payouts := sim.get("/_sim/payouts", params={"paymentId": pid}).json()):
        assert time.monotonic() < deadline, "the payout never reached the provider"
        time.sleep(0.05)
    txn = payouts[0]["providerTxnId"]
    body = json.dumps({"callbackId": f"forged-{txn}", "providerTxnId": txn, "status": "FAILED"}).encode()
    forged = httpx.post(
        platform.url("callback") + "/v1/provider/callbacks",
        content=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(platform.env["CALLBACK_PROVIDER_SECRET"], body),
        },
        timeout=10,
    )
    assert forged.status_code == 200, forged.text
    assert customer.payment(pid)["status"] == "PENDING"
    assert customer.wallet()["reserved"] == 120_00  # the reservation holds while the provider is asked
    view = customer.wait_final(pid)
    assert (view["status"], view["errorCode"]) == ("COMPLETED", None)
    cases = wait_for_cases(platform, pid, "the contradicted FAILED callback opened no case")
    assert [c["kind"] for c in cases] == ["UNCONFIRMED_FAILURE"]
    await check_invariants(infra, platform.url("provider_sim"), [pid])
