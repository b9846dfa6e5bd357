"""Driving the saga through the BFF, and checking SPEC §5's invariants against the databases,
the topics and the provider simulator."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from paysaga.contracts.banking import with_control_key
from paysaga.contracts.bus import EXPECTED_SOURCES
from paysaga.contracts.topics import PAYMENT_EVENTS
from tests.support.infra import Infra
from tests.support.kafka import Record, read_topic
from tests.support.platform import RunningPlatform

BIC = "044525225"
PASSWORD = "correct-horse-42"
FINAL_EVENTS = {"PaymentCompleted": "COMPLETED", "PaymentFailed": "FAILED"}


def new_account(code: str = "810") -> str:
    """A valid 20-digit account (control key against BIC) that no other test uses; `code` is its
    numeric currency code (digits 6-8): 810 or 643 RUB, 840 USD, 978 EUR."""
    return with_control_key("40817" + code + "0" + f"{uuid.uuid4().int % 10**11:011d}", BIC)


@dataclass
class Customer:
    client: httpx.Client
    user_id: str
    token: str
    email: str = ""

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
            if wallet["reserved"] == 0:
                return wallet
            if time.monotonic() > deadline:
                raise AssertionError(f"a reservation was still open after {timeout} s: {wallet}")
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
            if view["status"] != "PENDING":
                return view
            if time.monotonic() > deadline:
                raise AssertionError(f"payment {payment_id} was not final after {timeout} s: {view}")
            time.sleep(0.05)


def register(client: httpx.Client, *, top_up: int = 0, currency: str = "RUB") -> Customer:
    email = f"saga-{uuid.uuid4().hex[:12]}@example.org"
    body = {"email": email, "password": PASSWORD, "name": "Saga Tester", "phone": "+79161234567", "currency": currency}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    user_id = response.json()["userId"]
    token = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["accessToken"]
    customer = Customer(client, user_id, token, email)
    deadline = time.monotonic() + 15
    while client.get("/api/v1/wallet", headers=customer.auth).status_code == 404:
        assert time.monotonic() < deadline, "the wallet was never opened"
        time.sleep(0.05)
    if top_up:
        customer.top_up(top_up)
    return customer


def log_records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON log lines of a service (tests run the services with PAYSAGA_LOG_FORMAT=json)."""
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def wait_for_log(path: Path, event: str, timeout: float = 20, **fields: object) -> dict:
    """The first JSON log line of `path` with this event and these field values; fails when none
    appears in time."""
    deadline = time.monotonic() + timeout
    while True:
        found = next(
            (r for r in log_records(path) if r.get("event") == event and all(r.get(k) == v for k, v in fields.items())),
            None,
        )
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line {event} {fields} in {path} after {timeout} s")
        time.sleep(0.1)


def reconciliation_cases(platform: RunningPlatform, payment_id: str) -> list[dict]:
    response = httpx.get(
        f"{platform.url('payment')}/v1/reconciliation-cases",
        params={"open_only": "false"},
        auth=platform.auth("payment"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [c for c in response.json() if c["paymentId"] == payment_id]


def wait_for_cases(platform: RunningPlatform, payment_id: str, what: str, timeout: float = 20) -> list[dict]:
    """The payment's reconciliation cases once there is one; fails with `what` when none appears in time."""
    deadline = time.monotonic() + timeout
    while not (cases := reconciliation_cases(platform, payment_id)):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return cases


async def _wallet_settled(
    wallet: asyncpg.Connection, payment: asyncpg.Connection, payment_ids: list[str], timeout: float = 30.0
) -> None:
    """Wait until Payment has every payment final and Wallet has settled each one's reservation."""
    ids = [uuid.UUID(p) for p in payment_ids]
    deadline = time.monotonic() + timeout
    while True:
        final = {
            r["payment_id"]
            for r in await payment.fetch(
                "SELECT payment_id FROM payments WHERE payment_id = ANY($1::uuid[])"
                " AND status IN ('COMPLETED', 'FAILED')",
                ids,
            )
        }
        open_ = await wallet.fetch(
            "SELECT payment_id FROM reservations WHERE payment_id = ANY($1::uuid[]) AND status = 'RESERVED'", ids
        )
        not_final = [str(p) for p in ids if p not in final]
        if not not_final and not open_:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"after {timeout} s, payments not final in Payment's database: {not_final};"
                f" reservations still RESERVED in Wallet's database: {[str(r['payment_id']) for r in open_]}"
            )
        await asyncio.sleep(0.2)


async def _query_final(
    query: asyncpg.Connection, payment_ids: list[str], timeout: float = 30.0
) -> dict[str, asyncpg.Record]:
    """Query's read-model rows of the payments, once every one shows a final status."""
    ids = [uuid.UUID(p) for p in payment_ids]
    deadline = time.monotonic() + timeout
    while True:
        rows = {
            str(r["payment_id"]): r
            for r in await query.fetch(
                "SELECT payment_id, user_id, status, amount, provider_txn_id, error_code FROM payments_view"
                " WHERE payment_id = ANY($1::uuid[])",
                ids,
            )
        }
        pending = {p: rows[p]["status"] if p in rows else "no row" for p in payment_ids}
        pending = {p: s for p, s in pending.items() if s in ("PENDING", "no row")}
        if not pending:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s the Query read model shows these payments not final: {pending}")
        await asyncio.sleep(0.2)


def _from_publisher(record: Record) -> bool:
    return record.headers.get("ce_source") == EXPECTED_SOURCES.get(record.headers.get("ce_type", ""))


def _final_event(records: list[Record], pid: str) -> Record:
    finals = [r for r in records if r.key == pid and r.headers["ce_type"] in FINAL_EVENTS]
    assert len(finals) == 1, (pid, "final events on the topic:", [(r.headers["ce_type"], r.json) for r in finals])
    return finals[0]


async def _check_wallets(wallet: asyncpg.Connection) -> None:
    """Money is conserved in every wallet, in one snapshot (other payments may still move)."""
    async with wallet.transaction(isolation="repeatable_read", readonly=True):
        top_ups = await wallet.fetchval("SELECT coalesce(sum(amount), 0) FROM top_ups")
        balances = await wallet.fetchval("SELECT coalesce(sum(balance), 0) FROM wallets")
        paid_out = await wallet.fetchval("SELECT coalesce(sum(amount), 0) FROM reservations WHERE status = 'COMMITTED'")
        rows = await wallet.fetch(
            "SELECT w.wallet_id, w.balance, w.reserved,"
            " coalesce(sum(r.amount) FILTER (WHERE r.status = 'RESERVED'), 0) AS open"
            " FROM wallets w LEFT JOIN reservations r USING (wallet_id) GROUP BY w.wallet_id"
        )
        ledger = await wallet.fetch(
            "SELECT wallet_id, sum(CASE kind WHEN 'TOP_UP' THEN amount WHEN 'PAYOUT' THEN -amount ELSE 0 END) AS b,"
            " sum(CASE kind WHEN 'RESERVE' THEN amount WHEN 'PAYOUT' THEN -amount WHEN 'RELEASE' THEN -amount"
            " ELSE 0 END) AS r FROM wallet_ledger GROUP BY wallet_id"
        )
    # Sum of top-ups = sum of balances + sum of committed payouts.
    assert top_ups == balances + paid_out, (top_ups, balances, paid_out)
    # Reserved = the open reservations; nothing negative.
    for r in rows:
        assert r["reserved"] == r["open"] and r["balance"] >= r["reserved"] >= 0, dict(r)
    # The ledger replays to the balances, for every wallet (one without entries holds nothing).
    replayed = {e["wallet_id"]: (e["b"], e["r"]) for e in ledger}
    assert set(replayed) <= {r["wallet_id"] for r in rows}, "ledger entries of an unknown wallet"
    for r in rows:
        assert (r["balance"], r["reserved"]) == replayed.get(r["wallet_id"], (0, 0)), (dict(r), "ledger replay")


async def _check_payment(
    pid: str,
    events: list[Record],
    view: asyncpg.Record,
    wallet: asyncpg.Connection,
    payment: asyncpg.Connection,
    provider_url: str,
) -> None:
    """Exactly one final state, funds reserved once and settled once, consistent everywhere."""
    initiated = [r for r in events if r.key == pid and r.headers["ce_type"] == "PaymentInitiated"]
    assert len(initiated) == 1, (pid, len(initiated))
    final = _final_event(events, pid)
    state = await payment.fetchrow(
        "SELECT status, error_code, provider_txn_id, amount FROM payments WHERE payment_id = $1", uuid.UUID(pid)
    )
    reservation = await wallet.fetchrow("SELECT status, amount FROM reservations WHERE payment_id = $1", uuid.UUID(pid))
    assert state is not None and reservation is not None, pid
    body = final.json
    # The final event on the topic, Payment's state and the Query read model agree.
    seen = (final.headers["ce_type"], body.get("errorCode"), body.get("providerTxnId"))
    assert (FINAL_EVENTS[seen[0]], seen[1]) == (state["status"], state["error_code"]), (pid, seen, dict(state))
    assert (FINAL_EVENTS[seen[0]], seen[1], seen[2]) == (view["status"], view["error_code"], view["provider_txn_id"]), (
        pid,
        seen,
        dict(view),
    )
    if state["provider_txn_id"] != seen[2]:
        # Only a payment failed without a txn id may learn it later (a callback no payment
        # claimed, matched afterwards): that success is then a reconciliation case.
        assert seen[2] is None and state["status"] == "FAILED", (pid, seen, dict(state))
        cases = await payment.fetchval(
            "SELECT count(*) FROM reconciliation_cases WHERE payment_id = $1 AND provider_txn_id = $2",
            uuid.UUID(pid),
            state["provider_txn_id"],
        )
        assert cases == 1, (pid, "a txn id attached after the final event, without a reconciliation case")
    # The amount sent out is the amount reserved (the simulator does not report amounts).
    assert state["amount"] == reservation["amount"] == initiated[0].json["amount"] == view["amount"], pid

    expected = {"COMPLETED": "COMMITTED", "FAILED": "RELEASED"}[state["status"]]
    assert reservation["status"] == expected, (pid, state["status"], reservation["status"])
    kinds = await wallet.fetch("SELECT kind FROM wallet_ledger WHERE reference = $1", uuid.UUID(pid))
    assert sorted(k["kind"] for k in kinds) == sorted(
        ["RESERVE", "PAYOUT" if expected == "COMMITTED" else "RELEASE"]
    ), (
        pid,
        [k["kind"] for k in kinds],
    )

    # No payout sent to the provider twice for one paymentId; one for every payment that reached it.
    payouts = httpx.get(f"{provider_url}/_sim/payouts", params={"paymentId": pid}, timeout=10).json()
    created = sum(p["created"] for p in payouts)
    assert created <= 1, payouts
    if state["status"] == "COMPLETED":
        assert created == 1 and payouts[0]["status"] == "SUCCESS", (pid, payouts)
    elif state["error_code"] in ("FRAUD_SUSPECTED", "PROVIDER_REJECTED"):
        assert created == 0, (pid, state["error_code"], payouts)
    if state["provider_txn_id"] is not None:
        assert created == 1 and payouts[0]["providerTxnId"] == state["provider_txn_id"], (pid, dict(state), payouts)


async def check_invariants(infra: Infra, provider_url: str, payment_ids: list[str]) -> None:
    """SPEC §5, for the given payments and for every wallet."""
    wallet = await asyncpg.connect(infra.dsns["wallet"])
    payment = await asyncpg.connect(infra.dsns["payment"])
    query = await asyncpg.connect(infra.dsns["query"])
    try:
        # The read model may show a payment final before the Wallet applied it (e.g. while a
        # restarted Wallet waits for its partitions): let the Wallet catch up, then check.
        await _wallet_settled(wallet, payment, payment_ids)
        views = await _query_final(query, payment_ids)
        await _check_wallets(wallet)
        wanted = set(payment_ids)
        # The saga's events are its publishers' (the consumers refuse a record from another source,
        # e.g. a forged one); a relay may repeat a record: same ce_id.
        records = [r for r in read_topic(infra.kafka, PAYMENT_EVENTS) if r.key in wanted and _from_publisher(r)]
        events = list({r.headers["ce_id"]: r for r in records}.values())
        for pid in payment_ids:
            await _check_payment(pid, events, views[pid], wallet, payment, provider_url)
    finally:
        await wallet.close()
        await payment.close()
        await query.close()
