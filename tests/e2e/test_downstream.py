"""The downstream services (SPEC §4 step 10) react on their own to a run of mixed payments."""

from __future__ import annotations

import time

import asyncpg
import httpx
import pytest

from paysaga.services.dwh.store import DwhStore, DwhUnavailable
from tests.support.infra import Infra
from tests.support.platform import RunningPlatform
from tests.support.saga import check_invariants, new_account, register

pytestmark = pytest.mark.e2e


def _eventually(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


async def test_the_ledger_balances_and_matches_the_wallets_payouts(platform: RunningPlatform, infra: Infra) -> None:
    sim = httpx.Client(base_url=platform.url("provider_sim"))
    declined, failing = new_account(), new_account()
    rules = sim.put(
        "/_sim/rules",
        json={
            "rules": [
                {"accountNumber": declined, "outcome": "DECLINE"},
                {"accountNumber": failing, "outcome": "FAILED"},
            ]
        },
    )
    assert rules.status_code == 200, rules.text
    try:
        with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
            customer = register(client, top_up=1_000_000)
            ids = []
            for i in range(12):
                account = declined if i % 4 == 1 else failing if i % 4 == 2 else new_account()
                response = customer.pay(1_000 + i, account)
                assert response.status_code == 202, response.text
                ids.append(response.json()["paymentId"])
            finals = {pid: customer.wait_final(pid)["status"] for pid in ids}
    finally:
        sim.delete("/_sim/rules")
    assert list(finals.values()).count("COMPLETED") == 6

    wallet = await asyncpg.connect(infra.dsns["wallet"])
    try:
        committed = {
            str(r["payment_id"]): r["amount"]
            for r in await wallet.fetch(
                "SELECT payment_id, amount FROM reservations WHERE status = 'COMMITTED' AND payment_id::text = ANY($1)",
                ids,
            )
        }
    finally:
        await wallet.close()
    assert committed == {pid: 1_000 + i for i, pid in enumerate(ids) if finals[pid] == "COMPLETED"}

    def journal_of(pid: str) -> list[dict]:
        return httpx.get(
            platform.url("core_banking") + "/v1/journal", params={"paymentId": pid}, auth=platform.auth("core_banking")
        ).json()["items"]

    def ledger_caught_up() -> bool:
        return all(len(journal_of(pid)) == 1 for pid in committed)

    assert _eventually(ledger_caught_up), "Core Banking did not post every completed payment"
    for pid in ids:
        entries = journal_of(pid)
        if pid not in committed:
            assert entries == [], (pid, entries)  # failed payments move no money in the ledger
            continue
        [entry] = entries
        debits = {(line["accountCode"], line["amount"]) for line in entry["lines"] if line["side"] == "DEBIT"}
        credits = {(line["accountCode"], line["amount"]) for line in entry["lines"] if line["side"] == "CREDIT"}
        # Customer funds go down and the provider settlement is used, by exactly the wallet's payout.
        assert debits == {("2100", committed[pid])} and credits == {("1100", committed[pid])}
    balance = httpx.get(platform.url("core_banking") + "/v1/trial-balance", auth=platform.auth("core_banking")).json()
    assert balance["balanced"] is True
    await check_invariants(infra, platform.url("provider_sim"), ids)


async def test_a_slow_sms_gateway_does_not_slow_the_saga(platform: RunningPlatform, infra: Infra) -> None:
    notification = platform.url("notification")
    as_ops = platform.auth("notification")

    def notifications_of(pid: str) -> dict[str, dict]:
        response = httpx.get(f"{notification}/v1/notifications", params={"paymentId": pid}, auth=as_ops)
        assert response.status_code == 200, response.text
        return {item["channel"]: item for item in response.json()["items"]}

    # Every SMS send hangs for 20 s, longer than Notification's gateway timeout (5 s): no SMS can
    # be SENT while this holds, however long the test takes.
    slow = httpx.put(f"{notification}/v1/gateways/sms/behaviour", json={"delayMs": 20_000, "failTimes": 0}, auth=as_ops)
    assert slow.status_code == 200, slow.text
    try:
        with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
            customer = register(client, top_up=100_000)
            answers = [customer.pay(1_000, new_account()) for _ in range(5)]
            assert [a.status_code for a in answers] == [202] * 5, [a.text for a in answers]
            ids = [a.json()["paymentId"] for a in answers]
            finals = {pid: customer.wait_final(pid)["status"] for pid in ids}
        # Every payment completed while none of its SMS had gone out ...
        assert set(finals.values()) == {"COMPLETED"}
        at_completion = {pid: notifications_of(pid).get("SMS") for pid in ids}
        assert all(sms is None or sms["status"] != "SENT" for sms in at_completion.values()), at_completion

        def push_sent_for_all() -> bool:
            for pid in ids:
                by_channel = notifications_of(pid)
                if set(by_channel) != {"SMS", "PUSH"} or by_channel["PUSH"]["status"] != "SENT":
                    return False
            return True

        # ... the push channel went on regardless ...
        assert _eventually(push_sent_for_all), "push notifications were held up by the slow SMS gateway"

        def sms_tried_for_all() -> list[dict] | None:
            sms = [notifications_of(pid)["SMS"] for pid in ids]
            return sms if all(i["attempts"] >= 1 for i in sms) else None

        # ... and the SMS of these very payments did meet the slow gateway: tried, still not sent.
        sms = _eventually(sms_tried_for_all)
        assert sms, "no SMS of these payments was tried"
        assert all(i["status"] != "SENT" and i["sentAt"] is None for i in sms), sms
    finally:
        httpx.put(f"{notification}/v1/gateways/sms/behaviour", json={"delayMs": 0, "failTimes": 0}, auth=as_ops)


async def test_merchant_webhooks_and_the_dwh_see_the_payments(platform: RunningPlatform, infra: Infra) -> None:
    account = new_account()
    subscribed = httpx.post(
        f"{platform.url('merchant_callback')}/v1/subscriptions",
        json={"accountNumber": account, "url": "http://127.0.0.1:9/unreachable", "secret": "s" * 32},
        auth=platform.auth("merchant_callback"),
    )
    assert subscribed.status_code == 201, subscribed.text
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        customer = register(client, top_up=100_000)
        pid = customer.pay(2_500, account).json()["paymentId"]
        assert customer.wait_final(pid)["status"] == "COMPLETED"

    def delivery() -> dict | None:
        items = httpx.get(
            f"{platform.url('merchant_callback')}/v1/deliveries",
            params={"paymentId": pid},
            auth=platform.auth("merchant_callback"),
        ).json()
        return items[0] if items and items[0]["attempts"] else None

    first = _eventually(delivery)
    assert first, "no webhook delivery was attempted"
    assert first["payload"]["paymentId"] == pid and first["payload"]["status"] == "COMPLETED"
    assert first["status"] in ("PENDING", "DEAD")  # the merchant endpoint does not answer: retried, not lost

    # The DWH's file, read between its batches as `paysaga dwh report` does.
    dwh = DwhStore(infra.root / "dwh" / "paysaga.duckdb", read_only=True, lock_wait_seconds=10)

    def dwh_saga() -> dict | None:
        try:
            rows = dwh.fetch_dicts(
                "SELECT status, amount, provider_txn_id, callbacks FROM payment_sagas WHERE payment_id = ?", [pid]
            )
        except DwhUnavailable:
            return None
        return rows[0] if rows and rows[0]["status"] == "COMPLETED" and rows[0]["callbacks"] else None

    saga = _eventually(dwh_saga, timeout=30)
    assert saga, f"the DWH never saw payment {pid} completed"
    assert saga["amount"] == 2_500 and saga["callbacks"] == 1
    assert saga["provider_txn_id"] == first["payload"]["providerTxnId"]
    summary = httpx.get(f"{platform.url('dwh')}/v1/summary", auth=platform.auth("dwh"))
    assert summary.status_code == 200, summary.text
    topics = {t["topic"]: t for t in summary.json()["topics"]}
    assert {"payment-events", "callback-events", "customer-events"} <= set(topics)
