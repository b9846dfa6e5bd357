"""The AntiFraud gRPC service end to end: a real grpc.aio server and client, a real database."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc
from paysaga.platform.db import Database
from paysaga.services.antifraud import repository
from paysaga.services.antifraud.grpc_server import SERVICE_NAME, AntiFraudGrpcServer
from tests.integration.services.antifraud.helpers import (
    ANTIFRAUD_VERIFIER,
    DEADLINE,
    LIMITS,
    check_request,
    new_account,
    new_id,
    payment_channel,
)

pytestmark = pytest.mark.integration

ALLOW, DENY = antifraud_pb2.ALLOW, antifraud_pb2.DENY


async def test_an_ordinary_payment_is_allowed_and_the_decision_is_stored(
    stub: antifraud_pb2_grpc.AntiFraudStub, db: Database
) -> None:
    request = check_request(user_id=new_id("user"), amount=250_000)
    response = await stub.Check(request, timeout=DEADLINE)
    assert response.decision == ALLOW
    assert response.reason == ""
    assert response.score == pytest.approx(1 / 3)  # 1 of 3 payments allowed per window is the closest limit
    async with db.connection() as conn:
        stored = await repository.find_check(conn, request.payment_id)
    assert stored is not None
    assert stored.verdict.decision.value == "ALLOW"
    assert stored.payment.amount == 250_000 and stored.velocity.count == 1


async def test_an_amount_above_the_limit_is_denied(stub: antifraud_pb2_grpc.AntiFraudStub) -> None:
    user = new_id("user")
    at_limit = await stub.Check(check_request(user_id=user, amount=LIMITS.amount_limit), timeout=DEADLINE)
    above = await stub.Check(check_request(user_id=new_id("user"), amount=LIMITS.amount_limit + 1), timeout=DEADLINE)
    assert at_limit.decision == ALLOW
    assert (above.decision, above.reason, above.score) == (DENY, "AMOUNT_LIMIT", 1.0)


async def test_payments_to_a_blocked_recipient_are_denied_until_it_is_unblocked(
    stub: antifraud_pb2_grpc.AntiFraudStub, http: httpx.AsyncClient
) -> None:
    account = new_account()
    before = await stub.Check(check_request(user_id=new_id("user"), account=account), timeout=DEADLINE)
    assert (await http.put(f"/v1/blocklist/{account}", json={"reason": "mule account"})).status_code == 201
    blocked = await stub.Check(check_request(user_id=new_id("user"), account=account), timeout=DEADLINE)
    assert (await http.delete(f"/v1/blocklist/{account}")).status_code == 204
    after = await stub.Check(check_request(user_id=new_id("user"), account=account), timeout=DEADLINE)
    assert before.decision == ALLOW
    assert (blocked.decision, blocked.reason, blocked.score) == (DENY, "RECIPIENT_BLOCKED", 1.0)
    assert after.decision == ALLOW


async def test_the_payment_after_max_count_in_the_window_is_denied(stub: antifraud_pb2_grpc.AntiFraudStub) -> None:
    user = new_id("user")
    answers = [await stub.Check(check_request(user_id=user, amount=1_000), timeout=DEADLINE) for _ in range(4)]
    assert [a.decision for a in answers] == [ALLOW, ALLOW, ALLOW, DENY]
    assert answers[-1].reason == "VELOCITY_COUNT"
    other_user = await stub.Check(check_request(user_id=new_id("user"), amount=1_000), timeout=DEADLINE)
    assert other_user.decision == ALLOW  # velocity is per user


async def test_the_payment_that_takes_the_window_total_above_max_sum_is_denied(
    stub: antifraud_pb2_grpc.AntiFraudStub,
) -> None:
    user = new_id("user")
    first = await stub.Check(check_request(user_id=user, amount=1_000_000), timeout=DEADLINE)
    second = await stub.Check(check_request(user_id=user, amount=1_000_000), timeout=DEADLINE)
    third = await stub.Check(check_request(user_id=user, amount=600_000), timeout=DEADLINE)  # 2.6M > 2.5M
    assert [first.decision, second.decision] == [ALLOW, ALLOW]
    assert (third.decision, third.reason) == (DENY, "VELOCITY_SUM")
    # A denied payment stays out of the sum (it still counts as an attempt).
    other = new_id("user")
    denied = await stub.Check(check_request(user_id=other, amount=1_500_000), timeout=DEADLINE)
    answers = [await stub.Check(check_request(user_id=other, amount=1_000_000), timeout=DEADLINE) for _ in range(2)]
    assert (denied.decision, denied.reason) == (DENY, "AMOUNT_LIMIT")
    assert [a.decision for a in answers] == [ALLOW, ALLOW]  # 2.0M, not 3.5M


async def test_the_window_ends_at_the_payments_creation_time(stub: antifraud_pb2_grpc.AntiFraudStub) -> None:
    user = new_id("user")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    for i in range(3):
        old = check_request(user_id=user, amount=1_000, created_at=two_hours_ago + timedelta(seconds=i))
        assert (await stub.Check(old, timeout=DEADLINE)).decision == ALLOW
    # An hour and more later those three are out of the window...
    now = await stub.Check(check_request(user_id=user, amount=1_000), timeout=DEADLINE)
    # ...but a payment created (and retried until now) right after them sees them.
    late = check_request(user_id=user, amount=1_000, created_at=two_hours_ago + timedelta(minutes=1))
    late_answer = await stub.Check(late, timeout=DEADLINE)
    assert now.decision == ALLOW
    assert (late_answer.decision, late_answer.reason) == (DENY, "VELOCITY_COUNT")


async def test_a_repeated_check_returns_the_stored_decision(
    stub: antifraud_pb2_grpc.AntiFraudStub, http: httpx.AsyncClient, db: Database
) -> None:
    account = new_account()
    request = check_request(user_id=new_id("user"), account=account)
    first = await stub.Check(request, timeout=DEADLINE)
    await http.put(f"/v1/blocklist/{account}")  # a fresh evaluation would now deny
    again = await stub.Check(request, timeout=DEADLINE)
    assert first.decision == ALLOW
    assert again == first
    async with db.connection() as conn:
        rows = await conn.fetchval("SELECT count(*) FROM checks WHERE payment_id = $1", request.payment_id)
        known = await conn.fetchval("SELECT count(*) FROM known_payments WHERE payment_id = $1", request.payment_id)
    assert (rows, known) == (1, 1)


async def test_concurrent_checks_of_one_payment_give_one_decision(
    stub: antifraud_pb2_grpc.AntiFraudStub, db: Database
) -> None:
    request = check_request(user_id=new_id("user"))
    answers = await asyncio.gather(*(stub.Check(request, timeout=DEADLINE) for _ in range(8)))
    assert all(a == answers[0] for a in answers)
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM checks WHERE payment_id = $1", request.payment_id) == 1


async def test_concurrent_payments_of_one_user_never_exceed_the_count_limit(
    stub: antifraud_pb2_grpc.AntiFraudStub,
) -> None:
    user = new_id("user")
    answers = await asyncio.gather(
        *(stub.Check(check_request(user_id=user, amount=1_000), timeout=DEADLINE) for _ in range(10))
    )
    assert Counter(a.decision for a in answers) == {ALLOW: LIMITS.max_count, DENY: 10 - LIMITS.max_count}


async def test_the_same_payment_id_with_other_data_is_refused(stub: antifraud_pb2_grpc.AntiFraudStub) -> None:
    request = check_request(user_id=new_id("user"), amount=1_000)
    await stub.Check(request, timeout=DEADLINE)
    changed = antifraud_pb2.CheckRequest()
    changed.CopyFrom(request)
    changed.amount = 900_000
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Check(changed, timeout=DEADLINE)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def served(code: str) -> float:
    """Check calls the server timed with this status code (paysaga_grpc_server_request_duration_seconds)."""
    return sum(
        sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == "paysaga_grpc_server_request_duration_seconds_count"
        and sample.labels["method"] == f"/{SERVICE_NAME}/Check"
        and sample.labels["code"] == code
    )


async def test_a_malformed_request_is_invalid_argument(stub: antifraud_pb2_grpc.AntiFraudStub) -> None:
    before = served("INVALID_ARGUMENT")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Check(check_request(user_id="", amount=0), timeout=DEADLINE)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "user_id is required" in (err.value.details() or "")
    assert "amount" in (err.value.details() or "")
    assert served("INVALID_ARGUMENT") == before + 1  # timed, with the code it was aborted with


async def test_every_answered_check_is_timed_with_its_code(stub: antifraud_pb2_grpc.AntiFraudStub) -> None:
    before = served("OK")
    await stub.Check(check_request(user_id=new_id("user"), amount=1_000), timeout=DEADLINE)
    assert served("OK") == before + 1


async def test_health_service_reports_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE_NAME):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_without_its_database_the_server_is_not_serving_and_checks_are_unavailable(
    antifraud_dsn: str,
) -> None:
    never_connected = Database(antifraud_dsn)  # stands for a database that is out of reach
    server = AntiFraudGrpcServer(
        host="127.0.0.1",
        port=0,
        db=never_connected,
        limits=LIMITS,
        verifier=ANTIFRAUD_VERIFIER,
        probe_interval_seconds=0.05,
    )
    await server.start()
    try:
        async with payment_channel(server.address) as ch:
            health = await health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=DEADLINE
            )
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await antifraud_pb2_grpc.AntiFraudStub(ch).Check(
                    check_request(user_id=new_id("user")), timeout=DEADLINE
                )
        assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(RuntimeError, match="NOT_SERVING"):
            await server.check_serving()
    finally:
        await server.close()


async def test_a_stopped_server_is_unavailable_to_callers(grpc_server: AntiFraudGrpcServer) -> None:
    address = grpc_server.address
    await grpc_server.close()
    async with payment_channel(address) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await antifraud_pb2_grpc.AntiFraudStub(ch).Check(check_request(user_id=new_id("user")), timeout=1.0)
    assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


async def test_a_taken_port_fails_the_start(grpc_server: AntiFraudGrpcServer, db: Database) -> None:
    second = AntiFraudGrpcServer(
        host="127.0.0.1", port=grpc_server.port or 0, db=db, limits=LIMITS, verifier=ANTIFRAUD_VERIFIER
    )
    with pytest.raises(OSError, match="cannot listen"):
        await second.start()
