"""The simulator as a process (`python -m paysaga.services.provider_sim.main`) and its shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from paysaga.services.provider_sim.signing import verify_signature
from paysaga.services.provider_sim.simulator import TASK_PREFIX
from tests.integration.services.provider_sim.conftest import (
    Receiver,
    bound_socket,
    eventually,
    running_sim,
)

pytestmark = pytest.mark.integration

SECRET = "process-test-secret-0123456789abcdefghij"


def settle_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t.get_name().startswith(TASK_PREFIX) and not t.done()}


async def test_close_cancels_pending_settlements_and_callbacks(receiver: Receiver) -> None:
    async with running_sim(receiver) as sim:
        await sim.set_rules({"accountNumber": "*", "outcome": "LATE_SUCCESS", "delayMs": 60_000})
        payment_id = str(uuid.uuid4())
        response = await sim.client.post("/v1/payouts", json=sim.payout_body(payment_id))
        txn_id = response.json()["providerTxnId"]
        pending = {t for t in settle_tasks() if t.get_name() == TASK_PREFIX + txn_id}
        assert len(pending) == 1
    # running_sim ran the service's on_close hooks on the way out
    [task] = pending
    assert task.cancelled()
    assert receiver.for_txn(txn_id) == []


async def test_runs_as_a_module_serves_signs_and_stops_on_sigterm(receiver: Receiver, tmp_path: Path) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    log_file = tmp_path / "provider_sim.log"
    env = {
        **os.environ,
        "PROVIDER_SIM_PORT": str(port),
        "PROVIDER_SIM_CALLBACK_SECRET": SECRET,
        "PROVIDER_SIM_DEFAULT_DELAY_MS": "0",
        "PAYSAGA_LOG_FORMAT": "json",
        "PAYSAGA_LOG_LEVEL": "DEBUG",  # callback.delivered is a DEBUG event
    }
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paysaga.services.provider_sim.main"], env=env, stdout=out, stderr=out
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:

            async def healthy() -> bool:
                assert proc.poll() is None, log_file.read_text()
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, timeout=20, interval=0.05)
            payment_id = str(uuid.uuid4())
            body = {
                "paymentId": payment_id,
                "amount": 500,
                "currency": "EUR",
                "recipient": {"accountNumber": "DE1", "bankBic": "DEUTDEFF", "name": "Ann"},
                "callbackUrl": receiver.url,
            }
            response = await client.post("/v1/payouts", json=body, headers={"Idempotency-Key": payment_id})
            assert response.status_code == 201, response.text
            txn_id = response.json()["providerTxnId"]
            [callback] = await eventually(lambda: receiver.for_txn(txn_id))
            assert verify_signature(SECRET, callback.body, callback.headers["paysaga-signature"])

            # A settlement still pending when SIGTERM arrives must not hold the shutdown up.
            await client.put(
                "/_sim/rules", json={"rules": [{"accountNumber": "*", "outcome": "LATE_SUCCESS", "delayMs": 60_000}]}
            )
            late = await client.post("/v1/payouts", json={**body, "paymentId": str(uuid.uuid4())})
            assert late.status_code == 201
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    logs = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    events = [entry.get("event") for entry in logs]
    assert code == 0, log_file.read_text()
    assert "callback.delivered" in events
    assert "sim.cancelling_tasks" in events
    assert "service.stopped" in events
    assert all(entry.get("service") == "provider_sim" for entry in logs if "event" in entry)
