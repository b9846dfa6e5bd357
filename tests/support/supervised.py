"""`paysaga run` — the supervisor with its own PostgreSQL, Kafka broker and every service — started
for the recovery tests in a state folder and on ports of its own, so that they can crash its
infrastructure processes and watch the supervisor heal them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from paysaga.devstack.catalog import ANTIFRAUD_GRPC_PORT, SERVICES
from paysaga.devstack.kafka_principals import ADMIN, admin_access
from paysaga.devstack.paths import kafka_libs_dir, state_dir
from paysaga.devstack.postgres import PostgresCluster
from paysaga.devstack.prometheus import DEFAULT_PROMETHEUS_PORT
from paysaga.devstack.secrets import kafka_passwords
from paysaga.platform.settings import service_database_url
from tests.support.infra import Infra

PORT_OFFSET = int(os.environ.get("PAYSAGA_RECOVERY_PORT_OFFSET", "12000"))  # BFF on 20000, ...
PG_PORT = 55434
KAFKA_PORT = 29092
KAFKA_CONTROLLER_PORT = 29093


@dataclass
class SupervisedPlatform:
    root: Path
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def infra(self) -> Infra:
        admin_url = f"postgresql://paysaga@127.0.0.1:{PG_PORT}/postgres"
        dsns = {s.name: service_database_url(admin_url, s.name) for s in SERVICES if s.has_database}
        kafka = admin_access(f"127.0.0.1:{KAFKA_PORT}", kafka_passwords(self.root)[ADMIN])  # its secrets.env
        return Infra(admin_url=admin_url, kafka=kafka, dsns=dsns, root=self.root)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{next(s.port for s in SERVICES if s.name == service) + PORT_OFFSET}"

    def status(self) -> dict[str, Any]:
        """The supervisor's view of its children (pid, state, restarts), from its status file."""
        return json.loads((self.root / "supervisor.json").read_text())

    def pid(self, name: str) -> int:
        return int(self.status()[name]["pid"])

    def wait_healthy(self, name: str, *, replacing: int, timeout: float) -> float:
        """Seconds until a new process (not pid `replacing`) of `name` is healthy."""
        started = time.monotonic()
        while True:
            assert self.proc.poll() is None, f"the supervisor exited: {self.log.read_text()[-3000:]}"
            child = self.status()[name]
            if child["pid"] != replacing and child["state"] == "healthy":
                return time.monotonic() - started
            assert time.monotonic() - started < timeout, f"{name} not healthy again after {timeout} s: {child}"
            time.sleep(0.1)

    def lines_of(self, name: str) -> list[str]:
        prefix = f"{name:>18} | "
        return [
            line[len(prefix) :] for line in self.log.read_text(errors="replace").splitlines() if line.startswith(prefix)
        ]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_supervised(timeout: float = 180) -> SupervisedPlatform:
    root = state_dir() / "test" / "supervised"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "kafka-libs").symlink_to(kafka_libs_dir())  # resolved once, for every platform
    shutil.rmtree(PostgresCluster(root / "postgres", PG_PORT).data_dir, ignore_errors=True)  # may live elsewhere
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "PAYSAGA_POSTGRES_URL")}
    env.update(
        {
            "PAYSAGA_STATE_DIR": str(root),
            "PAYSAGA_PG_PORT": str(PG_PORT),
            "PAYSAGA_KAFKA_PORT": str(KAFKA_PORT),
            "PAYSAGA_KAFKA_CONTROLLER_PORT": str(KAFKA_CONTROLLER_PORT),
            "ANTIFRAUD_GRPC_PORT": str(ANTIFRAUD_GRPC_PORT + PORT_OFFSET),
            "PAYSAGA_PROMETHEUS_PORT": str(DEFAULT_PROMETHEUS_PORT + PORT_OFFSET),
            "PAYSAGA_LOG_FORMAT": "json",
            "PAYSAGA_ZIPKIN_URL": "",  # no Zipkin: the healing measured here is that of Kafka and PostgreSQL
            **{f"{s.env_prefix}PORT": str(s.port + PORT_OFFSET) for s in SERVICES},
        }
    )
    log = root / "paysaga-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paysaga.cli", "run"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    platform = SupervisedPlatform(root, proc, log)
    deadline = time.monotonic() + timeout
    while "ready in" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            platform.stop()
            raise AssertionError(f"`paysaga run` did not come up: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    httpx.get(platform.url("bff") + "/readyz", timeout=5).raise_for_status()
    return platform
