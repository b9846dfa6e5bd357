"""Kill -9 the Payment and Wallet processes in the middle of a run of payments: every payment
still reaches exactly one final state and the invariants hold.

The provider holds every payout for 1.5 s, and a background client keeps sending payments
(retrying each with its Idempotency-Key on a 5xx or no answer) before, during and after the
kill, so the killed service's database holds unfinished work at the moment it dies.

Rule for the payments that fail: a payment caught by a crash may fail only with TIMEOUT (no
anti-fraud denial, no decline, every payout succeeds here), and a failed payment must not have
been paid out by the provider, unless Payment recorded that payout as a LATE_SUCCESS
reconciliation case. Most payments must complete.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import TypeVar

import asyncpg
import httpx
import pytest

from paysaga.devstack.catalog import SERVICES
from tests.support.infra import Infra
from tests.support.load import Sender, wait_for
from tests.support.platform import RunningPlatform
from tests.support.saga import Customer, check_invariants, reconciliation_cases, register

pytestmark = pytest.mark.e2e
T = TypeVar("T")

HOLD_MS = 1500  # how long the provider holds each payout before its final status and callback
CUSTOMERS = 3  # payments are spread over a few users, to stay far below Anti-Fraud's velocity limit


def ensure_running(platform: RunningPlatform, service: str) -> None:
    """Start the service again (waiting for its health) unless it runs."""
    if service not in platform.procs:
        platform.start(next(s for s in SERVICES if s.name == service))


@pytest.fixture
def sim(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as c:
        response = c.put(
            "/_sim/rules", json={"rules": [{"accountNumber": "*", "outcome": "SUCCESS", "delayMs": HOLD_MS}]}
        )
        assert response.status_code == 200, response.text
        yield c
        c.delete("/_sim/rules")


@pytest.fixture
def customers(platform: RunningPlatform) -> Iterator[list[Customer]]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        yield [register(client, top_up=10_000_000) for _ in range(CUSTOMERS)]


async def check_outcomes(
    customers: list[Customer], sender: Sender, sim: httpx.Client, infra: Infra, platform: RunningPlatform
) -> dict[str, dict]:
    """Every payment final, failures only as the module's rule allows; then SPEC §5's invariants."""
    ids = list(sender.ids)
    assert len(set(ids)) == len(ids), "one payment id answered for two requests"
    finals = {pid: customers[sender.owners[pid]].wait_final(pid, timeout=60) for pid in ids}
    statuses = {pid: (v["status"], v["errorCode"]) for pid, v in finals.items()}
    assert set(statuses.values()) <= {("COMPLETED", None), ("FAILED", "TIMEOUT")}, statuses

    for pid, view in finals.items():
        if view["status"] != "FAILED":
            continue
        # The provider's payout, once it settled (it is held HOLD_MS), if there is one.
        deadline = time.monotonic() + 20
        while True:
            payouts = sim.get("/_sim/payouts", params={"paymentId": pid}).json()
            if all(p["status"] != "PROCESSING" for p in payouts):
                break
            assert time.monotonic() < deadline, f"the provider never settled the payout of {pid}: {payouts}"
            time.sleep(0.1)
        if not any(p["status"] == "SUCCESS" for p in payouts):
            continue  # failed, and not paid out
        deadline = time.monotonic() + 30
        while not any(c["kind"] == "LATE_SUCCESS" for c in reconciliation_cases(platform, pid)):
            assert time.monotonic() < deadline, f"{pid} FAILED but paid out, without a LATE_SUCCESS case: {payouts}"
            time.sleep(0.2)

    completed = [pid for pid, s in statuses.items() if s[0] == "COMPLETED"]
    assert len(completed) * 2 > len(ids), f"most payments should complete: {statuses}"

    # Retries with the same key never made a second reservation: the users' reservations are
    # exactly the accepted payments.
    wallet = await asyncpg.connect(infra.dsns["wallet"])
    try:
        reserved = await wallet.fetch(
            "SELECT r.payment_id FROM reservations r JOIN wallets w USING (wallet_id)"
            " WHERE w.user_id = ANY($1::uuid[])",
            [uuid.UUID(c.user_id) for c in customers],
        )
    finally:
        await wallet.close()
    assert sorted(str(r["payment_id"]) for r in reserved) == sorted(ids)

    await check_invariants(infra, platform.url("provider_sim"), ids)
    return finals


async def test_killing_payment_mid_run_loses_nothing(
    platform: RunningPlatform, infra: Infra, sim: httpx.Client, customers: list[Customer]
) -> None:
    users = [uuid.UUID(c.user_id) for c in customers]
    db = await asyncpg.connect(infra.dsns["payment"])
    try:

        async def unfinished() -> list[asyncpg.Record]:
            return await db.fetch(
                "SELECT payment_id, status FROM payments WHERE user_id = ANY($1::uuid[])"
                " AND status NOT IN ('COMPLETED', 'FAILED')",
                users,
            )

        with Sender(customers, platform.url("bff")) as sender:
            await wait_for(
                unfinished,
                lambda rows: len(rows) >= 3 and any(r["status"] == "SUBMITTED" for r in rows),
                "3 unfinished payments in Payment's database, one of them submitted to the provider",
            )
            assert platform.kill("payment") == -9
            # Only Payment writes its database: what is unfinished now was unfinished at the kill.
            in_flight = await unfinished()
            assert in_flight, "the kill did not catch any payment in flight"
            # Payments keep being accepted (Wallet reserves them) while Payment is down.
            down_from = sender.accepted()
            sender.wait(lambda: sender.accepted() >= down_from + 3, "payments accepted while Payment is down")
            ensure_running(platform, "payment")
            up_from = sender.accepted()
            sender.wait(lambda: sender.accepted() >= up_from + 5, "payments accepted after Payment restarted")
        assert sender.error is None, repr(sender.error)
    finally:
        await db.close()
        ensure_running(platform, "payment")  # a failure above must not leave it down for the next tests
    assert {str(r["payment_id"]) for r in in_flight} <= set(sender.ids)
    await check_outcomes(customers, sender, sim, infra, platform)


async def test_killing_wallet_mid_run_loses_nothing(
    platform: RunningPlatform, infra: Infra, sim: httpx.Client, customers: list[Customer]
) -> None:
    users = [uuid.UUID(c.user_id) for c in customers]
    db = await asyncpg.connect(infra.dsns["wallet"])
    try:

        async def reserved() -> list[asyncpg.Record]:
            return await db.fetch(
                "SELECT r.payment_id FROM reservations r JOIN wallets w USING (wallet_id)"
                " WHERE w.user_id = ANY($1::uuid[]) AND r.status = 'RESERVED'",
                users,
            )

        with Sender(customers, platform.url("bff")) as sender:
            await wait_for(reserved, lambda rows: len(rows) >= 3, "3 RESERVED reservations in Wallet's database")
            assert platform.kill("wallet") == -9
            # Only Wallet writes its database: what is reserved now was reserved at the kill.
            open_at_kill = await reserved()
            assert open_at_kill, "the kill did not catch any reservation open"
            # The client keeps sending while Wallet is down: the BFF cannot reserve, so it answers 5xx.
            down_from = sender.failures
            sender.wait(lambda: sender.failures >= down_from + 3, "payments refused while Wallet is down")
            ensure_running(platform, "wallet")
            up_from = sender.accepted()
            sender.wait(lambda: sender.accepted() >= up_from + 5, "payments accepted after Wallet restarted")
        assert sender.error is None, repr(sender.error)
    finally:
        await db.close()
        ensure_running(platform, "wallet")  # a failure above must not leave it down for the next tests
    assert {str(r["payment_id"]) for r in open_at_kill} <= set(sender.ids)
    await check_outcomes(customers, sender, sim, infra, platform)
