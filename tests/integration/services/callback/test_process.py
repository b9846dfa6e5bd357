"""The Callback process as deployed (`python -m paysaga.services.callback.main`): the provider
simulator's real signed callbacks reach Kafka through it; without a broker it answers 503; it
stops on SIGTERM."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from paysaga.platform.kafka import KafkaAccess
from paysaga.services.callback.handlers import event_id_for
from tests.integration.services.callback.conftest import (
    SECRET,
    assert_problem,
    callback_json,
    new_txn_id,
    records_about,
    signed,
)
from tests.integration.services.provider_sim.conftest import Receiver, eventually, running_sim
from tests.support.infra import Infra
from tests.support.kafka import dead_bootstrap

pytestmark = pytest.mark.integration

PATH = "/v1/provider/callbacks"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_events(self) -> list[str]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line).get("event", "") for line in lines if line.startswith("{")]


@asynccontextmanager
async def callback_process(infra: Infra, kafka: KafkaAccess, **env: str) -> AsyncIterator[Running]:
    port = free_port()
    logs = infra.root / "logs" / "callback-tests"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"callback-{port}.log"
    environment = {
        **os.environ,
        **kafka.environment(),
        "PAYSAGA_LOG_FORMAT": "json",
        "CALLBACK_PORT": str(port),
        "CALLBACK_PROVIDER_SECRET": SECRET,
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paysaga.services.callback.main"], env=environment, stdout=out, stderr=out
        )
    running = Running(proc, f"http://127.0.0.1:{port}", log)
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=5) as client:

            async def healthy() -> bool:
                assert proc.poll() is None, log.read_text()
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, timeout=30, interval=0.05)
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def unused_receiver() -> Iterator[Receiver]:
    """running_sim wants a receiver for its default callbackUrl; these tests point it at the service."""
    receiver = Receiver()
    yield receiver
    receiver.sock.close()


async def test_the_simulators_signed_callbacks_reach_kafka_through_the_process(
    infra: Infra, unused_receiver: Receiver
) -> None:
    async with (
        callback_process(infra, infra.kafka) as service,
        running_sim(unused_receiver, callback_secret=SECRET, default_delay_ms=0) as sim,
        httpx.AsyncClient(base_url=service.url, timeout=5) as http,
    ):
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        failing_account = "40817810000000000777"
        await sim.set_rules({"accountNumber": failing_account, "outcome": "FAILED", "delayMs": 0})
        outcomes: dict[str, str] = {}
        for account, expected in (("40817810000000000001", "SUCCESS"), (failing_account, "FAILED")):
            body = sim.payout_body(str(uuid.uuid4()), account, callbackUrl=service.url + PATH)
            created = await sim.client.post("/v1/payouts", json=body)
            assert created.status_code == 201, created.text
            outcomes[created.json()["providerTxnId"]] = expected

        for txn_id, expected in outcomes.items():
            [attempt] = await eventually(functools.partial(_delivered, sim.client, txn_id), timeout=30)
            assert attempt["statusCode"] == 200 and attempt["attempt"] == 1  # accepted the first time
            [record] = records_about(infra.kafka, txn_id)
            assert record.key == txn_id
            assert record.json["status"] == expected
            assert record.headers["ce_id"] == event_id_for(attempt["callbackId"])

        unsigned = await http.post(PATH, content=orjson.dumps(callback_json(new_txn_id())))
        assert_problem(unsigned, 401, "invalid-signature")


async def _delivered(client: httpx.AsyncClient, txn_id: str) -> list[dict]:
    attempts = (await client.get("/_sim/callbacks", params={"providerTxnId": txn_id})).json()
    return attempts if any(a["delivered"] for a in attempts) else []


async def test_the_process_stops_on_sigterm(infra: Infra) -> None:
    # callback.published is a DEBUG event (one per callback on the payment path).
    async with callback_process(infra, infra.kafka, PAYSAGA_LOG_LEVEL="DEBUG") as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=5) as http:
            body = orjson.dumps(callback_json(new_txn_id()))
            assert (await http.post(PATH, content=body, headers=signed(body))).status_code == 200
        service.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(service.proc.wait, 30)
        assert code == 0, service.log.read_text()
        events = service.log_events()
        assert "service.started" in events and "callback.published" in events and "service.stopped" in events


async def test_without_a_reachable_broker_the_process_answers_503(infra: Infra) -> None:
    with dead_bootstrap() as bootstrap:
        async with (
            callback_process(infra, bootstrap, CALLBACK_PUBLISH_TIMEOUT_SECONDS="1") as service,
            httpx.AsyncClient(base_url=service.url, timeout=10) as http,
        ):
            txn_id = new_txn_id()
            body = orjson.dumps(callback_json(txn_id))
            response = await http.post(PATH, content=body, headers=signed(body))
            assert_problem(response, 503, "service-unavailable")
            assert response.headers["retry-after"] == "1"
            ready = await http.get("/readyz")
            assert_problem(ready, 503, "not-ready")
            assert "callback.publish_failed" in service.log_events()
            service.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(service.proc.wait, 60) == 0, service.log.read_text()
        assert records_about(infra.kafka, txn_id) == []  # and the real broker never saw it
