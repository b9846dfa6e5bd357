"""The Merchant Callback process as deployed: `python -m paysaga.services.merchant_callback.main`
serves its API, consumes payment-events, sends the webhooks and stops gracefully on SIGTERM."""

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
from cryptography.fernet import Fernet

from tests.integration.services.merchant_callback.helpers import (
    Receiver,
    eventually,
    new_account,
    new_secret,
    publish_completed,
)
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait_ready(http: httpx.AsyncClient, proc: subprocess.Popen[bytes], timeout: float = 30) -> httpx.Response:
    for _ in range(int(timeout / 0.1)):
        assert proc.poll() is None, "the process exited"
        try:
            answer = await http.get("/readyz")
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("merchant callback did not become ready")


async def test_the_process_delivers_webhooks_and_stops_gracefully(
    infra: Infra, mc_dsn: str, receiver: Receiver
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        **TEST_KEYS.environment(),  # prod mode: the callers' public keys are set
        "PAYSAGA_POSTGRES_URL": infra.admin_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        "PAYSAGA_LOG_FORMAT": "json",
        "MERCHANT_CALLBACK_PORT": str(port),
        "MERCHANT_CALLBACK_CONSUMER_GROUP": f"merchant-callback-proc-{uuid.uuid4()}",
        "MERCHANT_CALLBACK_RETRY_INITIAL_SECONDS": "0.1",
        "MERCHANT_CALLBACK_RETRY_MAX_SECONDS": "0.5",
        "MERCHANT_CALLBACK_RETRY_HORIZON_SECONDS": "30",
        "MERCHANT_CALLBACK_REQUEST_TIMEOUT_SECONDS": "2",
        "MERCHANT_CALLBACK_LEASE_SECONDS": "5",
        "MERCHANT_CALLBACK_WORKER_POLL_SECONDS": "0.2",
        "MERCHANT_CALLBACK_ALLOW_PRIVATE_TARGETS": "true",  # the receiver listens on 127.0.0.1
        "MERCHANT_CALLBACK_SECRETS_KEY": Fernet.generate_key().decode(),
    }
    logs = infra.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysaga.services.merchant_callback.main"],
        env=env,
        stdout=(logs / f"merchant-callback-{port}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=5, auth=TEST_KEYS.auth("merchant_callback")
        ) as http:
            ready = await _wait_ready(http, proc)
            assert set(ready.json()["checks"]) == {"database", "kafka"}
            assert "/v1/deliveries/{delivery_id}/redeliver" in (await http.get("/openapi.json")).json()["paths"]

            account, secret = new_account(), new_secret()
            url, _ = receiver.endpoint(secret, fail_first=1)
            subscribed = await http.post(
                "/v1/subscriptions", json={"accountNumber": account, "url": url, "secret": secret}
            )
            assert subscribed.status_code == 201, subscribed.text

            payment = publish_completed(infra, account)

            async def delivered() -> bool:
                answer = await http.get("/v1/deliveries", params={"paymentId": payment.payment_id})
                return [d["status"] for d in answer.json()] == ["DELIVERED"]

            assert await eventually(delivered)
            got = receiver.received(url)
            assert [r.answered for r in got] == [500, 200] and all(r.verified for r in got)
            assert got[-1].json["paymentId"] == payment.payment_id and got[-1].json["status"] == "COMPLETED"

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
