"""The Notification process as deployed: `python -m paysaga.services.notification.main` — HTTP API,
payment-events consumer and dispatcher in one process, configured from the environment, stopped
gracefully by SIGTERM."""

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

from paysaga.platform.db import Database
from tests.integration.services.notification.helpers import completed, eventually, initiated, publish
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_process_consumes_delivers_serves_and_stops_gracefully(
    infra: Infra, notification_dsn: str, db: Database
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **TEST_KEYS.environment(),  # prod mode: the callers' public keys are set
        "PAYSAGA_POSTGRES_URL": infra.admin_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        "PAYSAGA_LOG_FORMAT": "json",
        "NOTIFICATION_PORT": str(port),
        "NOTIFICATION_CONSUMER_GROUP": f"notification-proc-{uuid.uuid4()}",
        "NOTIFICATION_DEFAULT_LANGUAGE": "en",
        "NOTIFICATION_PUSH_DELAY_MS": "20",
    }
    logs = infra.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"notification-{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paysaga.services.notification.main"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=5, auth=TEST_KEYS.auth("notification")
        ) as http:

            async def ready() -> bool:
                assert proc.poll() is None, "the process exited"
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            assert await eventually(ready)
            push = (await http.get("/v1/gateways/push")).json()
            assert push["behaviour"]["delayMs"] == 20  # from the environment

            start = initiated(amount=250_000)
            publish(infra, start)
            publish(infra, completed(start.payment_id))

            async def both_sent() -> bool:
                body = (await http.get("/v1/notifications", params={"paymentId": start.payment_id})).json()
                return [(i["channel"], i["status"]) for i in body["items"]] == [("PUSH", "SENT"), ("SMS", "SENT")]

            assert await eventually(both_sent)
            [sms] = (await http.get("/v1/gateways/sms/sent", params={"userId": start.user_id})).json()
            assert sms["text"].startswith("PaySaga: your payment of ₽2,500.00 to Иван Петров has been sent.")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
