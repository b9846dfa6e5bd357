"""The Anti-Fraud process as deployed: `python -m paysaga.services.antifraud.main`, gRPC + HTTP +
consumer in one process, graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc
from paysaga.services.antifraud.grpc_server import SERVICE_NAME
from tests.integration.services.antifraud.helpers import (
    DEADLINE,
    check_request,
    eventually,
    initiated,
    new_account,
    new_id,
    payment_channel,
    publish,
)
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(infra: Infra, http_port: int, grpc_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **TEST_KEYS.environment(),  # prod mode: the callers' public keys are set
        "PAYSAGA_POSTGRES_URL": infra.admin_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        "PAYSAGA_LOG_FORMAT": "json",
        "ANTIFRAUD_PORT": str(http_port),
        "ANTIFRAUD_GRPC_PORT": str(grpc_port),
        "ANTIFRAUD_CONSUMER_GROUP": f"antifraud-proc-{uuid.uuid4()}",
        "ANTIFRAUD_VELOCITY_MAX_COUNT": "2",
        **extra,
    }


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "paysaga.services.antifraud.main"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def logs(infra: Infra) -> Path:
    path = infra.root / "logs" / "antifraud-tests"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def seeded_account() -> str:
    return new_account()


@pytest.fixture
def process(
    infra: Infra, antifraud_dsn: str, logs: Path, seeded_account: str
) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    http_port, grpc_port = free_port(), free_port()
    env = service_env(infra, http_port, grpc_port, ANTIFRAUD_BLOCKLIST_SEED=seeded_account)
    proc = spawn(env, logs / f"antifraud-{grpc_port}.log")
    yield proc, http_port, grpc_port
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


async def wait_until_serving(address: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    async with grpc.aio.insecure_channel(address) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        for _ in range(int(timeout / 0.1)):
            assert proc.poll() is None, "the process exited"
            try:
                answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=0.5)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{address} did not become SERVING")


async def test_the_process_serves_grpc_and_http_consumes_events_and_stops_gracefully(
    infra: Infra, process: tuple[subprocess.Popen[bytes], int, int], seeded_account: str
) -> None:
    proc, http_port, grpc_port = process
    address = f"127.0.0.1:{grpc_port}"
    await wait_until_serving(address, proc)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", auth=TEST_KEYS.auth("antifraud")) as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "kafka", "grpc"}
        rules = (await http.get("/v1/rules")).json()
        assert rules["velocityMaxCount"] == 2 and rules["amountLimit"] == 100_000_000  # env and default
        blocklist = (await http.get("/v1/blocklist")).json()["items"]
        assert {"accountNumber": seeded_account, "source": "seed"}.items() <= next(
            i for i in blocklist if i["accountNumber"] == seeded_account
        ).items()

        async with payment_channel(address) as ch:
            stub = antifraud_pb2_grpc.AntiFraudStub(ch)
            to_seeded = await stub.Check(
                check_request(user_id=new_id("user"), account=seeded_account), timeout=DEADLINE
            )
            assert (to_seeded.decision, to_seeded.reason) == (antifraud_pb2.DENY, "RECIPIENT_BLOCKED")

            # The process's own consumer feeds velocity: two consumed payments, the third is one too many.
            user = new_id("user")
            for event in (initiated(user, 1_000), initiated(user, 1_000)):
                publish(infra, event)

            async def consumed() -> bool:
                return await _known(infra, user) == 2

            assert await eventually(consumed)
            third = await stub.Check(check_request(user_id=user, amount=1_000), timeout=DEADLINE)
            assert (third.decision, third.reason) == (antifraud_pb2.DENY, "VELOCITY_COUNT")

    proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, 30) == 0
    with socket.socket() as s:  # the gRPC port is released
        s.bind(("127.0.0.1", grpc_port))


async def _known(infra: Infra, user: str) -> int:
    import asyncpg

    from paysaga.platform.settings import service_database_url

    conn = await asyncpg.connect(service_database_url(infra.admin_url, "antifraud"))
    try:
        return await conn.fetchval("SELECT count(*) FROM known_payments WHERE user_id = $1", user)
    finally:
        await conn.close()


async def test_a_second_process_on_the_same_grpc_port_fails_to_start(
    infra: Infra, process: tuple[subprocess.Popen[bytes], int, int], logs: Path
) -> None:
    proc, _, grpc_port = process
    await wait_until_serving(f"127.0.0.1:{grpc_port}", proc)
    second = spawn(service_env(infra, free_port(), grpc_port), logs / f"antifraud-second-{grpc_port}.log")
    try:
        code = await asyncio.to_thread(second.wait, 30)
    finally:
        if second.poll() is None:
            second.kill()
    assert code != 0
    assert proc.poll() is None  # the first one keeps serving
