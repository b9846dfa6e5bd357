"""The Core Banking process as deployed: `python -m paysaga.services.core_banking.main`, consumer +
HTTP in one process, configured by its environment, stopped gracefully by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.integration.services.core_banking.helpers import (
    completed,
    eventually,
    initiated,
    new_payment_id,
    publish,
)
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_process_posts_payouts_and_stops_on_sigterm(infra: Infra, core_banking_dsn: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        **TEST_KEYS.environment(),  # prod mode: the callers' public keys are set
        "PAYSAGA_POSTGRES_URL": infra.admin_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        "PAYSAGA_LOG_FORMAT": "json",
        "CORE_BANKING_PORT": str(port),
        "CORE_BANKING_CONSUMER_GROUP": f"core-banking-proc-{uuid.uuid4()}",
        "CORE_BANKING_SHUTDOWN_GRACE_SECONDS": "5",
    }
    logs = infra.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"core-banking-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysaga.services.core_banking.main"],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=5, auth=TEST_KEYS.auth("core_banking")
        ) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            assert await eventually(ready), log_path.read_text()
            payment_id = new_payment_id()
            publish(infra, initiated(payment_id, 4_321, "RUB"))
            publish(infra, completed(payment_id))

            async def posted() -> bool:
                items = (await client.get("/v1/journal", params={"paymentId": payment_id})).json()["items"]
                return len(items) == 1

            assert await eventually(posted), log_path.read_text()
            tb = (await client.get("/v1/trial-balance")).json()
            assert tb["balanced"] is True
            assert "/v1/journal/{entryId}/reversal" in (await client.get("/openapi.json")).json()["paths"]
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 30)
        assert code == 0, log_path.read_text()
        assert '"service.stopped"' in log_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
