"""The operators' backend (the Ops service) on the running platform: operators' own accounts and
tokens (a customer's never opens a route), fleet health from Kafka and every service, dead letters
browsed and replayed exactly once, reconciliation cases resolved and audited."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
import jwt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from paysaga.contracts.identities import OPS
from paysaga.contracts.topics import ALL_TOPICS, PAYMENT_EVENTS
from paysaga.devstack.catalog import SERVICES
from paysaga.platform.problems import PROBLEM_MEDIA_TYPE
from tests.support.identity import identities
from tests.support.infra import Infra
from tests.support.kafka import produce_raw
from tests.support.platform import RunningPlatform
from tests.support.saga import Customer, check_invariants, new_account, register

pytestmark = pytest.mark.e2e
T = TypeVar("T")

PASSWORD = "ops-pass-12345678"
CONSUMER_GROUPS = {
    "payment",
    "query",
    "wallet",
    "anti-fraud",
    "notification",
    "merchant-callback",
    "core-banking",
    "dwh",
}


@dataclass
class Operator:
    operator_id: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def operator_cli(platform: RunningPlatform, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`paysaga operator ...` against the test platform's Ops database."""
    return subprocess.run(
        [sys.executable, "-m", "paysaga.cli", "operator", *args],
        input=stdin,
        env=platform.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def create_operator(platform: RunningPlatform, email: str, password: str = PASSWORD) -> str:
    done = operator_cli(platform, "create", "--email", email, "--password-stdin", stdin=password + "\n")
    assert done.returncode == 0, done.stderr
    return done.stdout.split("operator ", 1)[1].split()[0]


def login(ops: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return ops.post("/ops/v1/auth/login", json={"email": email, "password": password})


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 30, every: float = 0.3) -> T:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        assert time.monotonic() < deadline, what
        time.sleep(every)
    return found


def problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body: dict[str, Any] = response.json()
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body


@pytest.fixture(scope="module")
def ops(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("ops"), timeout=20) as client:
        yield client


@pytest.fixture(scope="module")
def operator(platform: RunningPlatform, ops: httpx.Client) -> Operator:
    email = f"ops-{uuid.uuid4().hex[:8]}@example.org"
    operator_id = create_operator(platform, email)
    response = login(ops, email)
    assert response.status_code == 200, response.text
    return Operator(operator_id, email, response.json()["accessToken"])


@pytest.fixture
def bff(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        yield client


@pytest.fixture
def customer(bff: httpx.Client) -> Customer:
    return register(bff, top_up=10_000_000)


@pytest.fixture
def sim(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as client:
        client.delete("/_sim/rules")
        yield client
        client.delete("/_sim/rules")


def paid(customer: Customer, amount: int, account: str | None = None) -> str:
    response = customer.pay(amount, account or new_account())
    assert response.status_code == 202, response.text
    payment_id: str = response.json()["paymentId"]
    return payment_id


# --- operators and their tokens -----------------------------------------------------------------


def test_an_operator_made_on_the_command_line_logs_in_and_opens_the_ops_routes(
    platform: RunningPlatform, ops: httpx.Client
) -> None:
    email = f"Ann.Ops-{uuid.uuid4().hex[:6]}@Example.org"
    operator_id = create_operator(platform, email)
    again = operator_cli(platform, "create", "--email", email.lower(), "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "exists" in again.stderr
    weak = operator_cli(platform, "create", "--email", f"x{email}", "--password-stdin", stdin="short1\n")
    assert weak.returncode == 2 and "at least 12" in weak.stderr

    problem(login(ops, email, "wrong-password-123"), 401, "invalid-credentials")
    response = login(ops, email.upper())  # emails compare case-insensitively
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 3600
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["aud"], claims["iss"]) == (
        operator_id,
        "operator",
        "paysaga-ops",
        "paysaga-ops",
    )
    me = ops.get("/ops/v1/me", headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert me.status_code == 200 and me.json() == {"operatorId": operator_id, "email": email}
    problem(ops.get("/ops/v1/me"), 401, "unauthorized")

    # Disabled on the command line: the token it still holds stops working at once.
    disabled = operator_cli(platform, "disable", "--email", email)
    assert disabled.returncode == 0, disabled.stderr
    problem(ops.get("/ops/v1/me", headers={"Authorization": f"Bearer {body['accessToken']}"}), 401)
    problem(login(ops, email), 401, "invalid-credentials")
    listed = operator_cli(platform, "list")
    assert f"{operator_id}  {email}" in listed.stdout and "disabled" in listed.stdout


def test_nothing_but_an_operators_token_opens_an_ops_route(
    platform: RunningPlatform, ops: httpx.Client, operator: Operator, customer: Customer
) -> None:
    """Every route of the Ops service's own OpenAPI document: a customer's real BFF token is a 403 (the
    BFF vouches it is a customer's, who is no operator); a service identity (the operators' tools' own
    key), an operator token signed with the BFF's key, one of the right key for a customer role, a
    customer-looking token the BFF did not sign, and garbage are each a 401 problem."""
    now = datetime.now(UTC)
    claims = {"sub": operator.operator_id, "iat": now, "exp": now + timedelta(minutes=5), "iss": "paysaga-ops"}
    forged_key = jwt.encode(
        {**claims, "aud": "paysaga-ops", "role": "operator"}, platform.env["BFF_JWT_SECRET"], algorithm="HS256"
    )
    right_key_wrong_role = jwt.encode(
        {**claims, "aud": "paysaga-ops", "role": "customer"},
        platform.env["OPS_JWT_SECRET"],
        algorithm="HS256",
        headers={"kid": hashlib.sha256(platform.env["OPS_JWT_SECRET"].encode()).hexdigest()[:16]},
    )
    not_the_bffs = jwt.encode(
        {"sub": customer.user_id, "iat": now, "exp": now + timedelta(minutes=5), "iss": "paysaga-bff"},
        "a-made-up-key-of-32-bytes-or-more!",
        algorithm="HS256",
    )
    strangers = {
        "none": {},
        "a customer-looking token the BFF did not sign": {"Authorization": f"Bearer {not_the_bffs}"},
        "the operators' service identity": {"Authorization": identities(platform.env)[OPS].authorization("ops")},
        "an operator token signed with the BFF's key": {"Authorization": f"Bearer {forged_key}"},
        "a customer role under the operators' key": {"Authorization": f"Bearer {right_key_wrong_role}"},
        "garbage": {"Authorization": "Bearer not-a-token"},
    }
    document = ops.get("/openapi.json").json()
    routes = [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/ops/v1/") and path != "/ops/v1/auth/login"
    ]
    assert len(routes) >= 9, routes
    bodies = {
        "/ops/v1/dead-letters/replay": {"record": {"topic": "payment-events.dlq", "partition": 0, "offset": 0}},
        "/ops/v1/reconciliation-cases/{caseId}/resolve": {"note": "not allowed"},
    }
    for method, path in routes:
        url = path.replace("{caseId}", "1").replace("{paymentId}", str(uuid.uuid4()))
        for name, headers in strangers.items():
            response = ops.request(
                method, url, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}, json=bodies.get(path)
            )
            assert response.status_code == 401, f"{method} {path} with {name}: {response.status_code}"
            problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"
        as_customer = ops.request(
            method, url, headers={**customer.auth, "Idempotency-Key": str(uuid.uuid4())}, json=bodies.get(path)
        )
        problem(as_customer, 403, "not-an-operator")
        with_operator = ops.request(method, url, headers=operator.auth) if method == "GET" else None
        if with_operator is not None:
            assert with_operator.status_code in (200, 404), f"{method} {path}: {with_operator.text}"


def test_failed_logins_are_throttled_per_account(
    platform: RunningPlatform, ops: httpx.Client, operator: Operator
) -> None:
    email = f"ops-throttled-{uuid.uuid4().hex[:6]}@example.org"
    create_operator(platform, email)
    for _ in range(5):  # OPS_LOGIN_FAILURE_LIMIT
        problem(login(ops, email, "wrong-password-123"), 401, "invalid-credentials")
    refused = login(ops, email, "wrong-password-123")
    problem(refused, 429, "too-many-requests")
    assert 0 < int(refused.headers["retry-after"]) <= 900
    problem(login(ops, email), 429, "too-many-requests")  # the right password waits too
    assert login(ops, operator.email).status_code == 200  # other accounts are not affected


# --- fleet health -------------------------------------------------------------------------------


def fleet(ops: httpx.Client, operator: Operator) -> dict[str, Any]:
    response = ops.get("/ops/v1/fleet", headers=operator.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def service(view: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in view["services"] if s["name"] == name)


def group(view: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((g for g in view["consumerGroups"] if g["group"] == name), None)


def test_the_fleet_shows_each_service_and_the_lag_of_a_consumer_that_stopped(
    platform: RunningPlatform, ops: httpx.Client, operator: Operator, customer: Customer
) -> None:
    view = fleet(ops, operator)
    assert view["kafka"] == {"reachable": True, "error": None}
    watched = {s.name for s in SERVICES} - {"ops"}
    assert {s["name"] for s in view["services"]} == watched
    assert {s["name"]: s["status"] for s in view["services"]} == {name: "up" for name in watched}
    assert {s["name"] for s in view["services"] if s["outbox"] is not None} == {"customer", "wallet", "payment"}
    assert service(view, "payment")["checks"] == {"database": "ok", "kafka": "ok"}
    assert {g["group"] for g in view["consumerGroups"]} >= CONSUMER_GROUPS
    assert {t["topic"] for t in view["deadLetterTopics"]} == {f"{topic}.dlq" for topic in ALL_TOPICS}
    notification = next(s for s in SERVICES if s.name == "notification")
    platform.kill("notification")
    try:
        payments = [paid(customer, 10_00 + i) for i in range(3)]
        for pid in payments:
            customer.wait_final(pid)

        def lagging() -> dict[str, Any] | None:
            seen = fleet(ops, operator)
            found = group(seen, "notification")
            return seen if found is not None and found["lag"] >= 6 else None  # 3 payments: initiated + completed

        seen = eventually(lagging, "the stopped consumer's lag did not grow")
        assert service(seen, "notification")["status"] == "down"
        assert service(seen, "notification")["live"] is False
        stopped = group(seen, "notification")
        assert stopped is not None
        partitions = {(p["topic"], p["partition"]) for p in stopped["partitions"] if p["lag"] > 0}
        assert partitions and all(t == PAYMENT_EVENTS for t, _ in partitions)
        for p in stopped["partitions"]:
            committed = p["committedOffset"]
            start = p["logStartOffset"] if committed is None else max(committed, p["logStartOffset"])
            assert p["highWatermark"] - start == p["lag"]
        # The Ops service's /metrics shows the same lag, from the brokers, while the group has no consumer.
        eventually(lambda: group_lag_metric(ops, "notification") >= 6 or None, "no lag on the Ops /metrics")

        # A stopped payment's timeline names the group that has not applied its outcome, with its lag.
        def others_applied() -> dict[str, Any] | None:
            saga: dict[str, Any] = ops.get(f"/ops/v1/payments/{payments[-1]}/saga", headers=operator.auth).json()
            outcomes = [r for r in saga["records"] if r["record"]["ceType"] == "PaymentCompleted"]
            others = [a for r in outcomes for a in r["applications"] if a["group"] != "notification"]
            return saga if outcomes and all(a["applied"] for a in others) else None  # the DWH stored it

        saga = eventually(others_applied, "the running groups did not apply the outcome")
        [outcome] = [r for r in saga["records"] if r["record"]["ceType"] == "PaymentCompleted"]
        [pending] = [a for a in outcome["applications"] if a["group"] == "notification"]
        assert (pending["applied"], pending["known"]) == (False, True) and pending["lag"] >= 1, pending
        assert saga["status"] == "COMPLETED" and saga["waiting"].startswith(
            "waiting for Notification to apply PaymentInitiated"
        )
    finally:
        platform.start(notification)

    def caught_up() -> dict[str, Any] | None:
        seen = fleet(ops, operator)
        found = group(seen, "notification")
        return seen if found is not None and found["lag"] == 0 and found["members"] >= 1 else None

    seen = eventually(caught_up, "the restarted consumer did not catch up", timeout=60)
    assert service(seen, "notification")["status"] == "up"
    eventually(lambda: group_lag_metric(ops, "notification") == 0 or None, "the Ops /metrics lag stayed up")
    assert ops.get(f"/ops/v1/payments/{payments[-1]}/saga", headers=operator.auth).json()["waiting"] is None


def group_lag_metric(ops: httpx.Client, group_id: str) -> float:
    """The group's lag summed over its partitions, as the Ops service's /metrics shows it."""
    text = ops.get("/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "paysaga_group_lag_records"
        for sample in family.samples
        if sample.labels["group"] == group_id
    )


async def test_the_outbox_backlog_of_a_service_whose_relay_is_held(
    infra: Infra, ops: httpx.Client, operator: Operator, customer: Customer
) -> None:
    """Every lane of Wallet's outbox held by this test (as a stuck relay would): a payment's event
    waits in the outbox, the fleet shows Wallet's backlog and its age; released, it drains."""
    holder = await asyncpg.connect(infra.dsns["wallet"])
    try:
        await holder.execute("SELECT pg_advisory_lock(2828, lane) FROM generate_series(0, 15) AS lane")  # relay.py
        pid = paid(customer, 20_00)
        time.sleep(1.5)
        view = fleet(ops, operator)
        backlog = service(view, "wallet")["outbox"]
        assert backlog["pending"] >= 1 and backlog["oldestPendingAgeSeconds"] >= 1.0, backlog
        assert backlog["oldestPendingAt"] is not None
        assert customer.payment(pid)["status"] == "PENDING"
    finally:
        await holder.execute("SELECT pg_advisory_unlock_all()")
        await holder.close()
    eventually(
        lambda: True if service(fleet(ops, operator), "wallet")["outbox"]["pending"] == 0 else None,
        "the held backlog did not drain",
    )
    assert customer.wait_final(pid)["status"] == "COMPLETED"
    wallet = service(fleet(ops, operator), "wallet")["outbox"]
    assert wallet["oldestPendingAgeSeconds"] == 0 and wallet["lastPublishedAt"] is not None


# --- dead letters -------------------------------------------------------------------------------


def dead_letters(ops: httpx.Client, operator: Operator, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = ops.get(
            "/ops/v1/dead-letters", params={**params, **({"cursor": cursor} if cursor else {})}, headers=operator.auth
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if page["nextCursor"] is None:
            return items
        cursor = page["nextCursor"]


def test_a_schema_invalid_record_shows_up_in_the_dead_letters_with_its_reason(
    infra: Infra, ops: httpx.Client, operator: Operator
) -> None:
    key = str(uuid.uuid4())
    headers = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_type": "PaymentCompleted",
        "ce_source": "/paysaga/payment",
        "ce_time": datetime.now(UTC).isoformat(),
        "content-type": "application/json",
    }
    produce_raw(
        infra.kafka,
        PAYMENT_EVENTS,
        key=key,
        value=b'{"paymentId": "%s", "completedAt": "yesterday"}' % key.encode(),
        headers=[(k, v.encode()) for k, v in headers.items()],
    )
    wanted = {"wallet", "query", "notification", "core-banking"}

    def dead() -> list[dict[str, Any]] | None:
        items = dead_letters(ops, operator, topic=PAYMENT_EVENTS, key=key)
        return items if wanted <= {i["consumerGroup"] for i in items} else None

    items = eventually(dead, "the poison record was not dead-lettered by the groups that handle its type")
    assert {i["reason"] for i in items} == {"schema-invalid"}
    assert all(i["ceId"] == headers["ce_id"] and i["ceType"] == "PaymentCompleted" for i in items)
    assert all(i["value"] == {"paymentId": key, "completedAt": "yesterday"} and i["valueText"] is None for i in items)
    assert all("validation error" in (i["error"] or "") for i in items)
    assert all(i["originalTopic"] == PAYMENT_EVENTS and i["originalOffset"] is not None for i in items)
    only_query = dead_letters(ops, operator, topic=PAYMENT_EVENTS, key=key, group="query", reason="schema-invalid")
    assert [i["consumerGroup"] for i in only_query] == ["query"]
    problem(ops.get("/ops/v1/dead-letters", params={"topic": "nope"}, headers=operator.auth), 422, "unknown-topic")
    problem(
        ops.get("/ops/v1/dead-letters", params={"cursor": "garbage!"}, headers=operator.auth), 422, "validation-error"
    )


def replay_bookkeeping(
    ops: httpx.Client, operator: Operator, pid: str, where: dict[str, Any], key: str, answer: dict[str, Any]
) -> None:
    """After one replay of `where` under `key`: the key answers the same, another body under it is a
    conflict, a new replay is refused, and the replay and both attempts are on record."""
    [item] = answer["items"]
    repeated = ops.post(
        "/ops/v1/dead-letters/replay", json={"record": where}, headers={**operator.auth, "Idempotency-Key": key}
    )
    assert repeated.status_code == 200 and repeated.json() == answer
    assert repeated.headers["idempotent-replayed"] == "true"
    other_body = ops.post(
        "/ops/v1/dead-letters/replay",
        json={"record": where, "force": True},
        headers={**operator.auth, "Idempotency-Key": key},
    )
    problem(other_body, 422, "idempotency-conflict")
    refused = ops.post(
        "/ops/v1/dead-letters/replay",
        json={"record": where},
        headers={**operator.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert problem(refused, 409, "already-replayed")["replayId"] == item["replayId"]
    problem(ops.post("/ops/v1/dead-letters/replay", json={"record": where}, headers=operator.auth), 400)

    replays = ops.get("/ops/v1/replays", params={"ceId": item["ceId"]}, headers=operator.auth).json()["items"]
    assert [(r["replayId"], r["status"], r["operatorId"], r["forced"]) for r in replays] == [
        (item["replayId"], "PUBLISHED", operator.operator_id, False)
    ]
    assert replays[0]["deadLetter"] == where and replays[0]["consumerGroup"] == "notification"
    [browsed] = dead_letters(ops, operator, group="notification", key=pid)
    assert [(r["replayId"], r["status"]) for r in browsed["replays"]] == [(item["replayId"], "PUBLISHED")]
    audit = ops.get("/ops/v1/audit", params={"action": "dead-letters.replay"}, headers=operator.auth).json()["items"]
    mine = [a for a in audit if a["summary"].get("record") == where]
    assert [(a["outcome"], a["operatorId"], a["actor"]) for a in mine] == [
        ("failed", operator.operator_id, operator.email),  # the 409, newest first
        ("succeeded", operator.operator_id, operator.email),
    ]
    assert mine[0]["detail"].startswith("409 already-replayed") and mine[1]["detail"].startswith("replayed 1")


POISONED_AMOUNT = 1234_57  # only the payment of the replay test has it


async def test_a_dead_letter_is_replayed_once_and_applied_by_the_group_that_failed_it(
    platform: RunningPlatform, infra: Infra, ops: httpx.Client, operator: Operator, customer: Customer
) -> None:
    """Notification's handler fails for one payment (a trigger in its database, as a bug would):
    the record is dead-lettered by that group alone. The cause removed, one replay applies it in
    Notification, every other group drops it as a duplicate, and a second replay is refused."""
    notification = await asyncpg.connect(infra.dsns["notification"])
    try:
        await notification.execute(
            "CREATE FUNCTION ops_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.amount = {POISONED_AMOUNT} AND NEW.outcome IS NOT NULL THEN"
            " RAISE EXCEPTION 'poisoned by the ops test'; END IF; RETURN NEW; END $$"
        )
        await notification.execute(
            "CREATE TRIGGER ops_test_poison BEFORE INSERT OR UPDATE ON payments"
            " FOR EACH ROW EXECUTE FUNCTION ops_test_poison()"
        )
        try:
            pid = paid(customer, POISONED_AMOUNT)
            assert customer.wait_final(pid)["status"] == "COMPLETED"
            [record] = eventually(
                lambda: dead_letters(ops, operator, group="notification", key=pid) or None,
                "Notification's failure was not dead-lettered",
            )
        finally:
            await notification.execute("DROP TRIGGER IF EXISTS ops_test_poison ON payments")
            await notification.execute("DROP FUNCTION IF EXISTS ops_test_poison()")
        assert record["reason"] == "handler-failed" and "poisoned by the ops test" in record["error"]
        assert record["replays"] == []
        assert dead_letters(ops, operator, topic=PAYMENT_EVENTS, key=pid) == [record]  # no other group failed it
        event_id = record["ceId"]
        assert await notification.fetchval("SELECT count(*) FROM notifications WHERE payment_id = $1", pid) == 0
        assert await notification.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event_id) == 0

        where = {"topic": record["topic"], "partition": record["partition"], "offset": record["offset"]}
        key = str(uuid.uuid4())
        replay = ops.post(
            "/ops/v1/dead-letters/replay", json={"record": where}, headers={**operator.auth, "Idempotency-Key": key}
        )
        assert replay.status_code == 200, replay.text
        answer = replay.json()
        assert (answer["replayed"], answer["failed"], answer["alreadyReplayed"]) == (1, 0, 0)
        [item] = answer["items"]
        assert (item["outcome"], item["ceId"], item["consumerGroup"]) == ("REPLAYED", event_id, "notification")

        async def notified() -> bool:
            return bool(await notification.fetchval("SELECT count(*) FROM notifications WHERE payment_id = $1", pid))

        deadline = time.monotonic() + 20
        while not await notified():
            assert time.monotonic() < deadline, "the replayed record was not applied by Notification"
            time.sleep(0.2)
        channels = await notification.fetch("SELECT channel FROM notifications WHERE payment_id = $1", pid)
        assert sorted(r["channel"] for r in channels) == ["PUSH", "SMS"]
        assert await notification.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event_id) == 1
    finally:
        await notification.close()
    # Every other group had applied it before: its inbox holds it once, and nothing was applied twice.
    time.sleep(1.0)
    for name in ("wallet", "query", "core_banking", "merchant_callback"):
        conn = await asyncpg.connect(infra.dsns[name])
        try:
            assert await conn.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event_id) == 1, name
        finally:
            await conn.close()
    await check_invariants(infra, platform.url("provider_sim"), [pid])

    replay_bookkeeping(ops, operator, pid, where, key, answer)


LOST_AMOUNT = 2345_67  # only the payment of the stuck-until-replayed test has it


def stuck_group_of(ops: httpx.Client, operator: Operator, payment_id: str) -> str | None:
    """The status of the stuck-payments group that lists this payment, if any does."""
    params = {"olderThanSeconds": "0.5", "samples": "100"}
    response = ops.get("/ops/v1/stuck-payments", params=params, headers=operator.auth)
    assert response.status_code == 200, response.text
    groups = response.json()["groups"]
    return next((g["status"] for g in groups if payment_id in {s["paymentId"] for s in g["samples"]}), None)


async def test_a_payment_whose_initiation_was_dead_lettered_is_stuck_until_replayed(
    platform: RunningPlatform, infra: Infra, ops: httpx.Client, operator: Operator, customer: Customer
) -> None:
    """Payment's handler fails on one PaymentInitiated (a trigger in its database): Payment never holds the
    payment, yet the stuck-payments view lists it (Wallet holds its money) until the dead letter is
    replayed and the payment completes."""
    payment = await asyncpg.connect(infra.dsns["payment"])
    try:
        await payment.execute(
            "CREATE FUNCTION ops_test_lost() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.amount = {LOST_AMOUNT} THEN RAISE EXCEPTION 'lost by the ops test'; END IF; RETURN NEW; END $$"
        )
        await payment.execute(
            "CREATE TRIGGER ops_test_lost BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION ops_test_lost()"
        )
        try:
            pid = paid(customer, LOST_AMOUNT)
            [record] = eventually(
                lambda: dead_letters(ops, operator, group="payment", key=pid) or None,
                "Payment's failure was not dead-lettered",
            )
            assert (record["ceType"], record["reason"]) == ("PaymentInitiated", "handler-failed")
            assert await payment.fetchval("SELECT count(*) FROM payments WHERE payment_id = $1", pid) == 0
            assert stuck_group_of(ops, operator, pid) == "NOT_IN_PAYMENT"
            [group] = [
                g
                for g in ops.get(
                    "/ops/v1/stuck-payments", params={"olderThanSeconds": "0.5"}, headers=operator.auth
                ).json()["groups"]
                if g["status"] == "NOT_IN_PAYMENT"
            ]
            assert group["source"] == "wallet" and "PaymentInitiated" in group["waitingFor"]
        finally:
            await payment.execute("DROP TRIGGER IF EXISTS ops_test_lost ON payments")
            await payment.execute("DROP FUNCTION IF EXISTS ops_test_lost()")
    finally:
        await payment.close()
    assert stuck_group_of(ops, operator, pid) == "NOT_IN_PAYMENT"  # the cause is gone; nothing replayed yet

    where = {"topic": record["topic"], "partition": record["partition"], "offset": record["offset"]}
    replay = ops.post(
        "/ops/v1/dead-letters/replay",
        json={"record": where},
        headers={**operator.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert replay.status_code == 200, replay.text
    assert customer.wait_final(pid, timeout=40)["status"] == "COMPLETED"
    eventually(lambda: stuck_group_of(ops, operator, pid) is None or None, "the completed payment is still stuck")
    await check_invariants(infra, platform.url("provider_sim"), [pid])


# --- reconciliation cases -----------------------------------------------------------------------


def test_a_reconciliation_case_is_listed_resolved_with_a_note_and_audited(
    ops: httpx.Client, operator: Operator, customer: Customer, sim: httpx.Client
) -> None:
    account = new_account()
    rule = {"accountNumber": account, "outcome": "LATE_SUCCESS", "delayMs": 9000}  # after the 6 s deadline
    assert sim.put("/_sim/rules", json={"rules": [rule]}).status_code == 200
    pid = paid(customer, 30_00, account)
    view = customer.wait_final(pid, timeout=30)
    assert (view["status"], view["errorCode"]) == ("FAILED", "TIMEOUT")

    def listed() -> list[dict[str, Any]] | None:
        response = ops.get("/ops/v1/reconciliation-cases", params={"paymentId": pid}, headers=operator.auth)
        assert response.status_code == 200, response.text
        return response.json()["items"] or None

    [case] = eventually(listed, "the late success opened no case", timeout=30)
    assert (case["kind"], case["paymentStatus"], case["callbackStatus"]) == ("LATE_SUCCESS", "FAILED", "SUCCESS")
    assert case["resolvedAt"] is None and case["resolvedBy"] is None
    case_id = case["caseId"]
    evidence = ops.get(f"/ops/v1/reconciliation-cases/{case_id}", headers=operator.auth)
    assert evidence.status_code == 200, evidence.text
    assert evidence.json()["case"] == case
    payment = evidence.json()["payment"]
    assert (payment["paymentId"], payment["status"], payment["errorCode"], payment["amount"]) == (
        pid,
        "FAILED",
        "TIMEOUT",
        30_00,
    )
    problem(ops.get("/ops/v1/reconciliation-cases/999999999", headers=operator.auth), 404)

    note = "Provider paid after our timeout; recovered 30.00 RUB from the customer (ticket OPS-42)."
    resolved = ops.post(f"/ops/v1/reconciliation-cases/{case_id}/resolve", json={"note": note}, headers=operator.auth)
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert (body["resolvedBy"], body["resolutionNote"]) == (operator.operator_id, note)
    assert body["resolvedAt"] is not None
    again = ops.post(f"/ops/v1/reconciliation-cases/{case_id}/resolve", json={"note": "again"}, headers=operator.auth)
    problem(again, 409, "case-already-resolved")

    def cases(status: str) -> list[int]:
        response = ops.get(
            "/ops/v1/reconciliation-cases", params={"paymentId": pid, "status": status}, headers=operator.auth
        )
        return [c["caseId"] for c in response.json()["items"]]

    assert (cases("open"), cases("resolved"), cases("all")) == ([], [case_id], [case_id])
    audit = ops.get("/ops/v1/audit", params={"action": "reconciliation-case.resolve"}, headers=operator.auth)
    entries = [a for a in audit.json()["items"] if a["target"] == f"case {case_id}"]
    assert [(a["outcome"], a["operatorId"], a["summary"]["note"]) for a in entries] == [
        ("failed", operator.operator_id, "again"),
        ("succeeded", operator.operator_id, note),
    ]
    assert all(a["finishedAt"] is not None for a in entries)
