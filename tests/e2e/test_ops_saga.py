"""The saga timeline, the payment search and the stuck payments through the Ops service on the running
platform (SPEC §9), and `paysaga saga <paymentId>` in a terminal: an operator answers "where is
payment X and what is it waiting for?" with one call."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from paysaga.contracts.bus import SUBSCRIPTIONS
from paysaga.contracts.ops import SagaTimeline
from tests.e2e.test_ops import PASSWORD, create_operator, login, problem
from tests.support.infra import Infra
from tests.support.platform import RunningPlatform
from tests.support.saga import new_account, register

pytestmark = pytest.mark.e2e
T = TypeVar("T")

OPEN_CASES = 'paysaga_reconciliation_cases_open{kind="FUNDS_MISMATCH"}'
COMPLETED = ["PaymentInitiated", "ProviderCallbackReceived", "PaymentCompleted"]


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 40) -> T:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return found


class Ops:
    def __init__(self, client: httpx.Client, email: str, token: str) -> None:
        self.client, self.email, self.token = client, email, token

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers={"Authorization": f"Bearer {self.token}"})

    def saga(self, payment_id: str) -> SagaTimeline:
        response = self.get(f"/ops/v1/payments/{payment_id}/saga")
        assert response.status_code == 200, response.text
        return SagaTimeline.model_validate(response.json())


@pytest.fixture(scope="module")
def ops(platform: RunningPlatform) -> Iterator[Ops]:
    email = f"saga-{uuid.uuid4().hex[:8]}@example.org"
    create_operator(platform, email)
    with httpx.Client(base_url=platform.url("ops"), timeout=30) as client:
        response = login(client, email)
        assert response.status_code == 200, response.text
        yield Ops(client, email, response.json()["accessToken"])


@pytest.fixture(scope="module")
def bff(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def completed(ops: Ops, bff: httpx.Client) -> tuple[str, str]:
    """A completed payment (its id, its customer's user id) once every group applied its records."""
    customer = register(bff, top_up=1_000_000)
    response = customer.pay(100_00, new_account())
    assert response.status_code == 202, response.text
    payment_id = response.json()["paymentId"]
    assert customer.wait_final(payment_id, timeout=40)["status"] == "COMPLETED"

    def settled() -> SagaTimeline | None:
        t = ops.saga(payment_id)
        seen = sorted(r.record.ce_type or "" for r in t.records)
        done = all(a.applied for r in t.records for a in r.applications)
        return t if seen == sorted(COMPLETED) and done and t.final else None

    eventually(settled, "every group applied the completed payment's records")
    return payment_id, customer.user_id


def test_the_saga_of_a_completed_payment(ops: Ops, completed: tuple[str, str]) -> None:
    payment_id, _ = completed
    t = ops.saga(payment_id)
    assert (t.payment_id, t.status, t.final, t.waiting, t.unavailable) == (payment_id, "COMPLETED", True, None, {})
    times = [e.at for e in t.entries]
    assert times == sorted(times) and t.entries[0].since_start == 0
    seen: set[str] = set()
    for e in t.entries:  # a group's application never before the record it applied
        if e.kind == "record" and e.ce_id:
            seen.add(e.ce_id)
        elif e.kind == "applied":
            assert e.ce_id in seen, e
    stepped = {e.service for e in t.entries if e.kind not in ("record", "applied")}
    assert {"payment", "wallet", "query", "antifraud", "notification", "core_banking"} <= stepped
    order = [(e.service, e.kind) for e in t.entries]
    assert order.index(("wallet", "reservation")) < order.index(("payment", "received"))
    assert order.index(("payment", "submission")) < order.index(("wallet", "settlement"))
    expected = {
        r.record.ce_type: sorted(
            sub.group for sub in SUBSCRIPTIONS.values() if any(e.type_name() == r.record.ce_type for e in sub.events)
        )
        for r in t.records
    }
    applied = {r.record.ce_type: sorted(a.group for a in r.applications if a.applied) for r in t.records}
    assert applied == expected and {"payment", "wallet", "query", "dwh"} <= {g for gs in applied.values() for g in gs}
    if t.trace_id:  # the services export their spans to the test Zipkin
        assert t.trace_url is not None and t.trace_url.endswith(f"/zipkin/traces/{t.trace_id}")


def test_an_unknown_payment_is_a_404(ops: Ops) -> None:
    problem(ops.get(f"/ops/v1/payments/{uuid.uuid4()}/saga"), 404, "not-found")
    assert ops.get("/ops/v1/payments/not-a-uuid/saga").status_code == 422


def test_a_payment_without_callback_waits_for_it(ops: Ops, bff: httpx.Client, platform: RunningPlatform) -> None:
    account = new_account()
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as sim:
        assert (
            sim.put("/_sim/rules", json={"rules": [{"accountNumber": account, "outcome": "NO_CALLBACK"}]}).status_code
            == 200
        )
        try:
            customer = register(bff, top_up=1_000_000)
            response = customer.pay(100_00, account)
            assert response.status_code == 202, response.text
            payment_id = response.json()["paymentId"]

            def waiting() -> SagaTimeline | None:
                t = ops.saga(payment_id)
                return t if t.waiting and "callback" in t.waiting else None

            t = eventually(waiting, "the saga waiting for the provider's callback", timeout=6)
            assert (t.status, t.final) == ("PENDING", False)
            assert t.waiting is not None and t.waiting.startswith("waiting for the provider's callback")
            customer.wait_final(payment_id, timeout=40)
        finally:
            sim.delete("/_sim/rules")


def test_search_and_stuck_payments(ops: Ops, completed: tuple[str, str]) -> None:
    payment_id, user_id = completed
    by_id = ops.get("/ops/v1/payments", paymentId=payment_id)
    assert by_id.status_code == 200, by_id.text
    [found] = by_id.json()["items"]
    assert (found["paymentId"], found["status"]) == (payment_id, "COMPLETED")
    by_user = ops.get("/ops/v1/payments", userId=user_id, status="COMPLETED", limit=1).json()
    assert [p["paymentId"] for p in by_user["items"]] == [payment_id]
    assert ops.get("/ops/v1/payments", userId=user_id, status="FAILED").json()["items"] == []
    stuck = ops.get("/ops/v1/stuck-payments", olderThanSeconds=3600)
    assert stuck.status_code == 200, stuck.text
    assert {"olderThanSeconds", "asOf", "total", "groups"} <= stuck.json().keys()
    assert ops.get("/ops/v1/stuck-payments", olderThanSeconds=0).status_code == 422


def test_a_customer_token_opens_none_of_them(bff: httpx.Client, ops: Ops, completed: tuple[str, str]) -> None:
    customer = register(bff)
    for path in (f"/ops/v1/payments/{completed[0]}/saga", "/ops/v1/payments", "/ops/v1/stuck-payments"):
        problem(ops.client.get(path, headers=customer.auth), 403, "not-an-operator")
        problem(ops.client.get(path), 401, "unauthorized")


def test_paysaga_saga_prints_the_timeline(ops: Ops, platform: RunningPlatform, completed: tuple[str, str]) -> None:
    payment_id, _ = completed

    def saga(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "paysaga.cli", "saga", *args, "--email", ops.email, "--url", platform.url("ops")],
            env={**os.environ, **platform.env, "PAYSAGA_OPERATOR_PASSWORD": password},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = saga(payment_id)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"payment {payment_id}  COMPLETED  took ")
    assert "nothing to wait for: the saga is complete" in done.stdout
    assert any("PaymentCompleted on payment-events" in line for line in lines)
    as_json = saga(payment_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert SagaTimeline.model_validate_json(as_json.stdout).status == "COMPLETED"
    unknown = saga(str(uuid.uuid4()))
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr
    refused = saga(payment_id, password="wrong-password-123")
    assert refused.returncode == 1 and "login refused" in refused.stderr


def run_reconciliation(ops: Ops) -> dict[str, Any]:
    response = ops.client.post("/ops/v1/reconciliation/runs", headers={"Authorization": f"Bearer {ops.token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_reconciliation_job_finds_a_tampered_wallet(
    ops: Ops, bff: httpx.Client, platform: RunningPlatform, infra: Infra
) -> None:
    """After top-ups and payments (completed and failed) a run finds nothing; with one kopeck more in a
    wallet in Wallet's database, a run reports the currency's difference. Both runs are listed, and
    the operator's run is audited."""
    failing = new_account()
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as sim:
        assert (
            sim.put("/_sim/rules", json={"rules": [{"accountNumber": failing, "outcome": "FAILED"}]}).status_code == 200
        )
        try:
            customer = register(bff, top_up=300_000)
            customer.top_up(45_500)
            ids = [
                customer.pay(amount, account).json()["paymentId"]
                for amount, account in ((10_000, new_account()), (20_000, failing))
            ]
            assert [customer.wait_final(pid, timeout=40)["status"] for pid in ids] == ["COMPLETED", "FAILED"]
            wallet = customer.settled_wallet()
        finally:
            sim.delete("/_sim/rules")
    time.sleep(2.5)  # past the test platform's margin: the run judges these payments
    clean = run_reconciliation(ops)
    assert (clean["status"], clean["funds"], clean["payments"], clean["trigger"]) == ("clean", [], [], "operator")

    conn = await asyncpg.connect(infra.dsns["wallet"])
    try:
        await conn.execute("UPDATE wallets SET balance = balance + 1 WHERE wallet_id = $1::uuid", wallet["walletId"])
        tampered = run_reconciliation(ops)
        still = run_reconciliation(ops)
    finally:
        await conn.execute("UPDATE wallets SET balance = balance - 1 WHERE wallet_id = $1::uuid", wallet["walletId"])
        await conn.close()
    assert tampered["status"] == "differences"
    [rub] = tampered["funds"]
    assert (rub["currency"], rub["difference"], rub["wallets"] - rub["customerFunds"]) == ("RUB", 1, 1)
    assert tampered["windowStart"] == clean["windowEnd"]

    runs = ops.get("/ops/v1/reconciliation/runs", limit=3).json()["items"]
    assert [r["runId"] for r in runs] == [still["runId"], tampered["runId"], clean["runId"]]
    audit = ops.get("/ops/v1/audit", action="reconciliation.run").json()["items"]
    assert audit[0]["outcome"] == "succeeded" and audit[0]["detail"] == f"run {still['runId']}: differences"
    assert run_reconciliation(ops)["status"] == "clean"  # put back
    check_difference_case(ops, platform, rub["caseId"], opened_by=tampered, seen_by=still)


def check_difference_case(
    ops: Ops, platform: RunningPlatform, case_id: int, *, opened_by: dict[str, Any], seen_by: dict[str, Any]
) -> None:
    """The difference opened one case; the second run that saw it kept that case open."""
    tampered, still = opened_by, seen_by
    assert still["funds"][0]["caseId"] == case_id
    case = ops.get(f"/ops/v1/reconciliation/cases/{case_id}").json()
    assert (case["kind"], case["subject"], case["evidence"]["difference"]) == ("FUNDS_MISMATCH", "RUB", 1)
    assert (case["openedByRun"], case["lastSeenRun"], case["resolvedAt"]) == (tampered["runId"], still["runId"], None)
    listed = ops.get("/ops/v1/reconciliation/cases", kind="FUNDS_MISMATCH", subject="RUB").json()["items"]
    assert [c["caseId"] for c in listed] == [case_id]
    assert f"{OPEN_CASES} 1.0" in httpx.get(f"{platform.url('ops')}/metrics").text

    # Put back, the case stays open until an operator resolves it, once, with a note (audited).
    auth = {"Authorization": f"Bearer {ops.token}"}
    note = "one kopeck added by hand in Wallet's database, removed"
    resolved = ops.client.post(f"/ops/v1/reconciliation/cases/{case_id}/resolve", json={"note": note}, headers=auth)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolutionNote"] == note and resolved.json()["resolvedAt"] is not None
    again = ops.client.post(f"/ops/v1/reconciliation/cases/{case_id}/resolve", json={"note": "x"}, headers=auth)
    problem(again, 409, "case-resolved")
    problem(ops.client.post("/ops/v1/reconciliation/cases/999999999/resolve", json={"note": "x"}, headers=auth), 404)
    assert ops.get("/ops/v1/reconciliation/cases", kind="FUNDS_MISMATCH", subject="RUB").json()["items"] == []
    assert f"{OPEN_CASES} 0.0" in httpx.get(f"{platform.url('ops')}/metrics").text
    audited = ops.get("/ops/v1/audit", action="reconciliation.case.resolve", limit=3).json()["items"]
    assert [(a["outcome"], a["summary"]["caseId"]) for a in audited] == [
        ("failed", 999999999),
        ("failed", case_id),
        ("succeeded", case_id),
    ]
