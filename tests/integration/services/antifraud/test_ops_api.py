"""The Anti-Fraud ops API: limits, blocklist management, the decisions made."""

from __future__ import annotations

import httpx
import pytest

from paysaga.contracts.protos import antifraud_pb2_grpc
from tests.integration.services.antifraud.helpers import DEADLINE, LIMITS, check_request, new_account, new_id

pytestmark = pytest.mark.integration


async def test_rules_show_the_limits_in_force(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/rules")
    assert response.status_code == 200
    assert response.json() == {
        "amountLimit": LIMITS.amount_limit,
        "velocityWindowSeconds": 3600,
        "velocityMaxCount": LIMITS.max_count,
        "velocityMaxSum": LIMITS.max_sum,
        "ruleOrder": ["AMOUNT_LIMIT", "VELOCITY_COUNT", "VELOCITY_SUM", "RECIPIENT_BLOCKED"],
    }


async def test_blocklist_put_get_delete(http: httpx.AsyncClient) -> None:
    account = new_account()
    created = await http.put(f"/v1/blocklist/{account}", json={"reason": "reported by the bank"})
    assert created.status_code == 201
    assert created.json()["accountNumber"] == account
    assert created.json()["reason"] == "reported by the bank"
    assert created.json()["source"] == "api"

    again = await http.put(f"/v1/blocklist/{account}")  # idempotent; no body keeps the reason
    assert again.status_code == 200 and again.json()["reason"] == "reported by the bank"
    renamed = await http.put(f"/v1/blocklist/{account}", json={"reason": "confirmed fraud"})
    assert renamed.status_code == 200 and renamed.json()["reason"] == "confirmed fraud"

    listed = (await http.get("/v1/blocklist")).json()["items"]
    assert [i["reason"] for i in listed if i["accountNumber"] == account] == ["confirmed fraud"]

    assert (await http.delete(f"/v1/blocklist/{account}")).status_code == 204
    gone = await http.delete(f"/v1/blocklist/{account}")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert account not in [i["accountNumber"] for i in (await http.get("/v1/blocklist")).json()["items"]]


@pytest.mark.parametrize("account", ["1234", "4081781009991000431X", "408178100999100043120"])
async def test_blocklist_rejects_what_is_not_an_account_number(http: httpx.AsyncClient, account: str) -> None:
    response = await http.put(f"/v1/blocklist/{account}")
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/validation-error"


async def test_checks_lists_the_decisions_made(http: httpx.AsyncClient, stub: antifraud_pb2_grpc.AntiFraudStub) -> None:
    user = new_id("user")
    allowed = check_request(user_id=user, amount=1_000)
    denied = check_request(user_id=user, amount=LIMITS.amount_limit + 1)
    await stub.Check(allowed, timeout=DEADLINE)
    await stub.Check(denied, timeout=DEADLINE)

    one = (await http.get("/v1/checks", params={"paymentId": denied.payment_id})).json()["items"]
    assert len(one) == 1
    assert one[0]["paymentId"] == denied.payment_id
    assert (one[0]["decision"], one[0]["reason"], one[0]["score"]) == ("DENY", "AMOUNT_LIMIT", 1.0)
    assert one[0]["reasons"] == ["AMOUNT_LIMIT"]
    assert one[0]["amount"] == LIMITS.amount_limit + 1 and one[0]["velocityCount"] == 2

    by_user = (await http.get("/v1/checks", params={"userId": user})).json()["items"]
    assert [c["paymentId"] for c in by_user] == [denied.payment_id, allowed.payment_id]  # newest first
    assert (await http.get("/v1/checks", params={"paymentId": "nope"})).json() == {"items": []}


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).status_code == 200
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
