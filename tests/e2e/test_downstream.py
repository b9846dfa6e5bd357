"""The downstream services (SPEC §4 step 10) react on their own to a run of mixed payments."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from paysaga.services.dwh.store import DwhStore, DwhUnavailable
from paysaga.services.ops.reconciliation import (
    FundsDifference,
    PaymentDifference,
    PaymentDifferenceKind,
    PaymentFinal,
    PaymentStatus,
    Report,
    Settlement,
    SettlementStatus,
    Window,
    customer_funds_from,
    reconcile,
    wallet_balances_from,
)
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


def _all_pages(url: str, start: datetime, end: datetime, auth: httpx.Auth) -> list[dict]:
    """Every item of a paged ops list (Payment's finals, Wallet's settlements) in [start, end)."""
    items: list[dict] = []
    cursor = None
    while True:
        params = {"from": start.isoformat(), "to": end.isoformat(), "limit": "1000"}
        response = httpx.get(url, params={**params, **({"cursor": cursor} if cursor else {})}, auth=auth, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if (cursor := body["nextCursor"]) is None:
            return items


def _reconciliation(platform: RunningPlatform, window: Window) -> Report:
    """What a reconciliation job does: read the four ops APIs, compare with the pure rules. The lists
    are read for the window widened by a margin, as the rules expect."""
    balances = httpx.get(platform.url("wallet") + "/v1/balances", auth=platform.auth("wallet"), timeout=10)
    funds = httpx.get(
        platform.url("core_banking") + "/v1/accounts/2100/balances", auth=platform.auth("core_banking"), timeout=10
    )
    assert balances.status_code == funds.status_code == 200, (balances.text, funds.text)
    start, end = window.start - timedelta(minutes=1), window.end + timedelta(minutes=1)
    return reconcile(
        wallet_balances=wallet_balances_from(balances.json()),
        customer_funds=customer_funds_from(funds.json()),
        finals=[
            PaymentFinal.from_json(i)
            for i in _all_pages(platform.url("payment") + "/v1/finals", start, end, platform.auth("payment"))
        ],
        settlements=[
            Settlement.from_json(i)
            for i in _all_pages(platform.url("wallet") + "/v1/settlements", start, end, platform.auth("wallet"))
        ],
        window=window,
    )


async def _with_wallet_tampered(
    infra: Infra, wallet_id: str, committed_payment_id: str, platform: RunningPlatform, window: Window
) -> Report:
    """The reconciliation while Wallet's database says one more kopeck in the wallet and the payment
    released instead of paid out; put back before returning."""
    wallet = await asyncpg.connect(infra.dsns["wallet"])
    try:
        await wallet.execute("UPDATE wallets SET balance = balance + 1 WHERE wallet_id = $1::uuid", wallet_id)
        await wallet.execute(
            "UPDATE reservations SET status = 'RELEASED' WHERE payment_id = $1::uuid AND status = 'COMMITTED'",
            committed_payment_id,
        )
        return _reconciliation(platform, window)
    finally:
        await wallet.execute("UPDATE wallets SET balance = balance - 1 WHERE wallet_id = $1::uuid", wallet_id)
        await wallet.execute(
            "UPDATE reservations SET status = 'COMMITTED' WHERE payment_id = $1::uuid", committed_payment_id
        )
        await wallet.close()


async def test_the_ledger_mirrors_the_wallets_and_the_reconciliation_finds_a_tampered_side(
    platform: RunningPlatform, infra: Infra
) -> None:
    """Top-ups credit Customer funds, completed payouts debit them, failed payouts move nothing: per
    currency, Customer funds = the sum of all wallets' balances (reserved money included) once the events
    are applied, read through the services' ops APIs."""
    start = datetime.now(UTC)
    sim = httpx.Client(base_url=platform.url("provider_sim"))
    failing, declined, failing_usd = new_account(), new_account(), new_account("840")
    rules = [
        {"accountNumber": failing, "outcome": "FAILED"},
        {"accountNumber": declined, "outcome": "DECLINE"},
        {"accountNumber": failing_usd, "outcome": "FAILED"},
    ]
    assert sim.put("/_sim/rules", json={"rules": rules}).status_code == 200
    try:
        with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
            ann, bob = register(client), register(client, currency="USD")
            top_up_ids = [c.top_up(amount)["topUpId"] for c, amount in ((ann, 300_000), (ann, 45_500), (bob, 90_000))]
            planned = [
                (ann, 10_000, new_account(), "RUB"),
                (ann, 20_000, failing, "RUB"),
                (ann, 30_000, declined, "RUB"),
                (ann, 40_000, new_account(), "RUB"),
                (bob, 5_000, new_account("840"), "USD"),
                (bob, 7_000, failing_usd, "USD"),
            ]
            ids = []
            for customer, amount, account, currency in planned:
                response = customer.pay(amount, account, currency=currency)
                assert response.status_code == 202, response.text
                ids.append(response.json()["paymentId"])
            finals = {pid: customer.wait_final(pid)["status"] for pid, (customer, *_) in zip(ids, planned, strict=True)}
            ann_wallet, bob_wallet = ann.settled_wallet(), bob.settled_wallet()
    finally:
        sim.delete("/_sim/rules")
    assert list(finals.values()) == ["COMPLETED", "FAILED", "FAILED", "COMPLETED", "COMPLETED", "FAILED"]
    assert (ann_wallet["balance"], bob_wallet["balance"]) == (345_500 - 50_000, 90_000 - 5_000)

    def journaled(top_up_id: str) -> list[dict]:
        url = platform.url("core_banking") + "/v1/journal"
        return httpx.get(url, params={"topUpId": top_up_id}, auth=platform.auth("core_banking"), timeout=10).json()[
            "items"
        ]

    assert _eventually(lambda: all(journaled(t) for t in top_up_ids)), "Core Banking did not journal every top-up"
    for top_up_id in top_up_ids:
        [entry] = journaled(top_up_id)
        assert {(x["accountCode"], x["side"]) for x in entry["lines"]} == {("1200", "DEBIT"), ("2100", "CREDIT")}

    window = Window(start, datetime.now(UTC) + timedelta(seconds=1))
    report = _eventually(lambda: (r := _reconciliation(platform, window)).clean and r, timeout=30)
    assert report, f"the ledger and the wallets still differ: {_reconciliation(platform, window)}"
    # The same, read directly: Customer funds per currency = the sum of the wallets' balances.
    balances = httpx.get(platform.url("wallet") + "/v1/balances", auth=platform.auth("wallet")).json()
    funds = httpx.get(
        platform.url("core_banking") + "/v1/accounts/2100/balances", auth=platform.auth("core_banking")
    ).json()
    assert wallet_balances_from(balances) == customer_funds_from(funds)
    assert {"RUB", "USD"} <= set(customer_funds_from(funds))
    trial = httpx.get(platform.url("core_banking") + "/v1/trial-balance", auth=platform.auth("core_banking")).json()
    assert trial["balanced"] is True and {c["currency"] for c in trial["currencies"]} >= {"RUB", "USD"}

    # One side tampered with (in Wallet's own database): the reconciliation names exactly that.
    completed_rub = ids[0]
    tampered = await _with_wallet_tampered(infra, ann_wallet["walletId"], completed_rub, platform, window)
    rub_funds = customer_funds_from(funds)["RUB"]
    assert tampered.funds == (FundsDifference("RUB", wallets=rub_funds + 1, customer_funds=rub_funds),)
    assert tampered.payments == (
        PaymentDifference(
            completed_rub, PaymentDifferenceKind.STATUS_MISMATCH, PaymentStatus.COMPLETED, SettlementStatus.RELEASED
        ),
    )
    assert _reconciliation(platform, window).clean
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
