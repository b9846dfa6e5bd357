"""Driving the saga through the BFF, and checking SPEC §5's invariants against the databases,
the topics and the provider simulator."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import asyncpg
import httpx

from paysaga.contracts.banking import with_control_key
from paysaga.contracts.topics import PAYMENT_EVENTS
from tests.support.infra import Infra
from tests.support.kafka import read_topic

BIC = "044525225"
PASSWORD = "correct-horse-42"


def new_account() -> str:
    """A valid 20-digit account (control key against BIC) that no other test uses."""
    return with_control_key("40817810" + "0" + f"{uuid.uuid4().int % 10**11:011d}", BIC)


@dataclass
class Customer:
    client: httpx.Client
    user_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def wallet(self) -> dict:
        response = self.client.get("/api/v1/wallet", headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def settled_wallet(self, timeout: float = 15) -> dict:
        """The wallet once no reservation is open (Wallet applies final events asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            wallet = self.wallet()
            if wallet["reserved"] == 0 or time.monotonic() > deadline:
                return wallet
            time.sleep(0.05)

    def top_up(self, amount: int) -> dict:
        response = self.client.post(
            "/api/v1/wallet/top-ups",
            json={"amount": amount},
            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def pay(self, amount: int, account: str, *, key: str | None = None, currency: str = "RUB") -> httpx.Response:
        body = {
            "amount": amount,
            "currency": currency,
            "recipient": {"accountNumber": account, "bankBic": BIC, "name": "Пётр Сидоров"},
        }
        return self.client.post(
            "/api/v1/payments", json=body, headers={**self.auth, "Idempotency-Key": key or str(uuid.uuid4())}
        )

    def payment(self, payment_id: str) -> dict:
        response = self.client.get(f"/api/v1/payments/{payment_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_final(self, payment_id: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            view = self.payment(payment_id)
            if view["status"] != "PENDING" or time.monotonic() > deadline:
                return view
            time.sleep(0.05)


def register(client: httpx.Client, *, top_up: int = 0) -> Customer:
    email = f"saga-{uuid.uuid4().hex[:12]}@example.org"
    body = {"email": email, "password": PASSWORD, "name": "Saga Tester", "phone": "+79161234567", "currency": "RUB"}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    user_id = response.json()["userId"]
    token = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["accessToken"]
    customer = Customer(client, user_id, token)
    deadline = time.monotonic() + 15
    while client.get("/api/v1/wallet", headers=customer.auth).status_code == 404:
        assert time.monotonic() < deadline, "the wallet was never opened"
        time.sleep(0.05)
    if top_up:
        customer.top_up(top_up)
    return customer


async def _wallet_settled(
    wallet: asyncpg.Connection, payment: asyncpg.Connection, payment_ids: list[str], timeout: float = 30.0
) -> None:
    ids = [uuid.UUID(p) for p in payment_ids]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        final = await payment.fetch(
            "SELECT payment_id FROM payments WHERE payment_id = ANY($1::uuid[]) AND status IN ('COMPLETED', 'FAILED')",
            ids,
        )
        open_ = await wallet.fetchval(
            "SELECT count(*) FROM reservations WHERE payment_id = ANY($1::uuid[]) AND status = 'RESERVED'",
            [r["payment_id"] for r in final],
        )
        if open_ == 0:
            return
        await asyncio.sleep(0.2)


async def check_invariants(infra: Infra, provider_url: str, payment_ids: list[str]) -> None:
    """SPEC §5, for the given payments and for every wallet."""
    wallet = await asyncpg.connect(infra.dsns["wallet"])
    payment = await asyncpg.connect(infra.dsns["payment"])
    try:
        # The read model may show a payment final before the Wallet applied it (e.g. while a
        # restarted Wallet waits for its partitions): let the Wallet catch up, then check.
        await _wallet_settled(wallet, payment, payment_ids)
        # Money is conserved: sum of top-ups = sum of balances + sum of committed payouts.
        top_ups = await wallet.fetchval("SELECT coalesce(sum(amount), 0) FROM top_ups")
        balances = await wallet.fetchval("SELECT coalesce(sum(balance), 0) FROM wallets")
        paid_out = await wallet.fetchval("SELECT coalesce(sum(amount), 0) FROM reservations WHERE status = 'COMMITTED'")
        assert top_ups == balances + paid_out
        # Reserved = the open reservations; nothing negative.
        rows = await wallet.fetch(
            "SELECT w.wallet_id, w.balance, w.reserved, coalesce(sum(r.amount) FILTER (WHERE r.status = 'RESERVED'), 0)"
            " AS open FROM wallets w LEFT JOIN reservations r USING (wallet_id) GROUP BY w.wallet_id"
        )
        for r in rows:
            assert r["reserved"] == r["open"] and r["balance"] >= r["reserved"] >= 0
        # The ledger replays to the balances.
        ledger = await wallet.fetch(
            "SELECT wallet_id, sum(CASE kind WHEN 'TOP_UP' THEN amount WHEN 'PAYOUT' THEN -amount ELSE 0 END) AS b,"
            " sum(CASE kind WHEN 'RESERVE' THEN amount WHEN 'PAYOUT' THEN -amount WHEN 'RELEASE' THEN -amount"
            " ELSE 0 END) AS r FROM wallet_ledger GROUP BY wallet_id"
        )
        by_wallet = {r["wallet_id"]: (r["balance"], r["reserved"]) for r in rows}
        for entry in ledger:
            assert by_wallet[entry["wallet_id"]] == (entry["b"], entry["r"])

        events = [r for r in read_topic(infra.bootstrap, PAYMENT_EVENTS) if r.key in set(payment_ids)]
        finals: Counter[str] = Counter()
        initiated: Counter[str] = Counter()
        for record in {r.headers["ce_id"]: r for r in events}.values():  # a relay may repeat a record: same ce_id
            if record.headers["ce_type"] in ("PaymentCompleted", "PaymentFailed"):
                finals[record.key or ""] += 1
            elif record.headers["ce_type"] == "PaymentInitiated":
                initiated[record.key or ""] += 1
        for pid in payment_ids:
            # Exactly one final state, funds reserved once and settled once, consistent everywhere.
            assert initiated[pid] == 1, pid
            assert finals[pid] == 1, (pid, finals[pid])
            state = await payment.fetchrow("SELECT status FROM payments WHERE payment_id = $1", uuid.UUID(pid))
            reservation = await wallet.fetchrow("SELECT status FROM reservations WHERE payment_id = $1", uuid.UUID(pid))
            assert state is not None and reservation is not None
            expected = {"COMPLETED": "COMMITTED", "FAILED": "RELEASED"}[state["status"]]
            assert reservation["status"] == expected, (pid, state["status"], reservation["status"])
            kinds = await wallet.fetch("SELECT kind FROM wallet_ledger WHERE reference = $1", uuid.UUID(pid))
            assert sorted(k["kind"] for k in kinds) == sorted(
                ["RESERVE", "PAYOUT" if expected == "COMMITTED" else "RELEASE"]
            )
            # No payout sent to the provider twice for one paymentId.
            payouts = httpx.get(f"{provider_url}/_sim/payouts", params={"paymentId": pid}).json()
            assert sum(p["created"] for p in payouts) <= 1, payouts
    finally:
        await wallet.close()
        await payment.close()
