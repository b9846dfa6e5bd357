"""The downstream services (SPEC §4 step 10) react on their own to a run of mixed payments."""

from __future__ import annotations

import time

import asyncpg
import httpx
import pytest

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
    sim.put(
        "/_sim/rules",
        json={
            "rules": [
                {"accountNumber": declined, "outcome": "DECLINE"},
                {"accountNumber": failing, "outcome": "FAILED"},
            ]
        },
    )
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
        payouts = await wallet.fetchval("SELECT coalesce(sum(amount), 0) FROM wallet_ledger WHERE kind = 'PAYOUT'")
        mine = await wallet.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM reservations"
            " WHERE status = 'COMMITTED' AND payment_id::text = ANY($1)",
            ids,
        )
    finally:
        await wallet.close()
    assert mine == sum(1_000 + i for i, pid in enumerate(ids) if finals[pid] == "COMPLETED")

    def ledger_caught_up() -> dict | None:
        balance = httpx.get(platform.url("core_banking") + "/v1/trial-balance").json()
        rub = next((c for c in balance["currencies"] if c["currency"] == "RUB"), None)
        funds = next((a for a in (rub or {}).get("accounts", []) if a["code"] == "2100"), None)
        if funds and funds["debits"] - funds["credits"] == payouts:
            return balance
        return None

    balance = _eventually(ledger_caught_up)
    assert balance, "the ledger's customer-funds movement never matched the wallets' payouts"
    assert balance["balanced"] is True
    for pid in ids:
        journal = httpx.get(platform.url("core_banking") + "/v1/journal", params={"paymentId": pid}).json()
        entries = journal["items"]
        assert len(entries) == (1 if finals[pid] == "COMPLETED" else 0), (pid, journal)
    await check_invariants(infra, platform.url("provider_sim"), ids)
