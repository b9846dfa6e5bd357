"""The platform's service processes, started for end-to-end tests on their own ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from paysaga.contracts.identities import OPS
from paysaga.devstack.catalog import ANTIFRAUD_GRPC_PORT, SERVICES, ServiceEntry, wiring
from paysaga.devstack.kafka_principals import service_environments
from paysaga.devstack.secrets import dev_secrets, kafka_passwords
from paysaga.devstack.supervisor import die_with_parent
from tests.support.identity import ServiceAuth, identities

TEST_PORT_OFFSET = int(os.environ.get("PAYSAGA_TEST_PORT_OFFSET", "10000"))  # BFF on 18000, ...


@dataclass
class RunningPlatform:
    env: dict[str, str]
    logs: Path
    kafka_env: dict[str, dict[str, str]] = field(default_factory=dict)  # each service's own principal
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{port_of(service)}"

    def auth(self, service: str, caller: str = OPS) -> ServiceAuth:
        """Requests to `service`'s internal API as `caller` (the operators' tools by default)."""
        return ServiceAuth(identities(self.env)[caller], service)

    def start(self, entry: ServiceEntry) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{entry.name}.log").open("ab")
        self.procs[entry.name] = subprocess.Popen(
            [sys.executable, "-m", entry.module],
            env={**self.env, **self.kafka_env.get(entry.name, {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        wait_healthy(self.url(entry.name) + "/healthz")

    def kill(self, service: str, sig: int = signal.SIGKILL) -> int:
        proc = self.procs.pop(service)
        proc.send_signal(sig)
        return proc.wait(30)

    def stop_all(self) -> dict[str, int]:
        codes = {}
        for name, proc in list(self.procs.items()):
            proc.terminate()
            try:
                codes[name] = proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        self.procs.clear()
        return codes


def port_of(service: str) -> int:
    return next(s.port for s in SERVICES if s.name == service) + TEST_PORT_OFFSET


# Short deadlines, so timeouts and inquiries happen within a test.
TEST_TIMINGS = {
    "PAYMENT_INQUIRY_AFTER_SECONDS": "1",
    "PAYMENT_INQUIRY_INTERVAL_SECONDS": "0.5",
    "PAYMENT_DEADLINE_SECONDS": "6",
    "PAYMENT_ORPHAN_CALLBACK_AFTER_SECONDS": "1",
    "PAYMENT_ORPHAN_SWEEP_INTERVAL_SECONDS": "0.5",
    "PAYMENT_ORPHAN_RETRY_AFTER_SECONDS": "2",
    "PAYMENT_LATE_INQUIRY_INTERVAL_SECONDS": "1",
    "PAYMENT_LATE_INQUIRY_HORIZON_SECONDS": "120",
    "PAYMENT_LATE_INQUIRY_SWEEP_INTERVAL_SECONDS": "0.5",
    "PAYMENT_LEASE_SECONDS": "3",
    "PAYMENT_RETRY_INITIAL_SECONDS": "0.1",
    "PAYMENT_RETRY_MAX_SECONDS": "1",
    "PAYMENT_WORKER_POLL_SECONDS": "0.2",
}


def platform_env(admin_url: str, bootstrap: str, root: Path, *, zipkin_url: str = "") -> dict[str, str]:
    return {
        **os.environ,
        "PAYSAGA_POSTGRES_URL": admin_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PAYSAGA_LOG_FORMAT": "json",
        **wiring(port_of, grpc_port=ANTIFRAUD_GRPC_PORT + TEST_PORT_OFFSET),
        **TEST_TIMINGS,
        "DWH_DATABASE_PATH": str(root / "dwh" / "paysaga.duckdb"),
        "PAYSAGA_ENV": "dev",
        # Every test client is 127.0.0.1: the per-address login limit would throttle the suite itself.
        "BFF_AUTH_ADDRESS_LIMIT": "1000000",
        "OPS_LOGIN_ADDRESS_LIMIT": "1000000",
        **dev_secrets(root),
        # Spans to the session's Zipkin, sent every 200 ms so a test finds a trace soon after the payment.
        "PAYSAGA_ZIPKIN_URL": zipkin_url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OPS_ZIPKIN_URL": zipkin_url,  # the saga timeline's trace links
        # The reconciliation judges payments final up to 2 s ago (a run in a test finds the test's payments).
        "OPS_RECONCILIATION_MARGIN_SECONDS": "2",
    }


def platform_kafka_env(bootstrap: str, root: Path) -> dict[str, dict[str, str]]:
    """Each service's `KAFKA_*` environment: it logs in as itself, as under `paysaga run`."""
    return service_environments(bootstrap, kafka_passwords(root))


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not become healthy")
        time.sleep(0.1)
