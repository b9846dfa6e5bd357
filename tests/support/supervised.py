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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from paysaga.devstack.broker import NODE_PORT_STRIDE
from paysaga.devstack.catalog import ANTIFRAUD_GRPC_PORT, SERVICES
from paysaga.devstack.kafka_principals import ADMIN, admin_access
from paysaga.devstack.paths import kafka_libs_dir, state_dir
from paysaga.devstack.postgres import PostgresCluster
from paysaga.devstack.prometheus import DEFAULT_PROMETHEUS_PORT
from paysaga.devstack.secrets import kafka_passwords
from paysaga.platform.settings import service_database_url
from tests.support.infra import Infra


@dataclass(frozen=True)
class Shape:
    """Where one supervised platform lives (its state folder under the tests' own, its ports) and what it
    runs beyond the defaults (`env`: e.g. 3 Kafka nodes, 2 instances of some services)."""

    name: str
    port_offset: int  # each service on its default port + this
    pg_port: int
    kafka_port: int  # the first node's; node i on + 100 * (i - 1)
    grpc_port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def kafka_nodes(self) -> int:
        return int(self.env.get("PAYSAGA_KAFKA_BROKERS", "1"))

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.kafka_port + NODE_PORT_STRIDE * i}" for i in range(self.kafka_nodes))


# The recovery tests' platform: one broker, one instance of each service.
RECOVERY = Shape(
    "supervised",
    port_offset=int(os.environ.get("PAYSAGA_RECOVERY_PORT_OFFSET", "12000")),  # BFF on 20000, ...
    pg_port=55434,
    kafka_port=29092,
    grpc_port=ANTIFRAUD_GRPC_PORT + int(os.environ.get("PAYSAGA_RECOVERY_PORT_OFFSET", "12000")),
)


@dataclass
class SupervisedPlatform:
    root: Path
    proc: subprocess.Popen[bytes]
    log: Path
    shape: Shape = RECOVERY

    @property
    def infra(self) -> Infra:
        admin_url = f"postgresql://paysaga@127.0.0.1:{self.shape.pg_port}/postgres"
        dsns = {s.name: service_database_url(admin_url, s.name) for s in SERVICES if s.has_database}
        kafka = admin_access(self.shape.bootstrap, kafka_passwords(self.root)[ADMIN])  # its secrets.env
        return Infra(admin_url=admin_url, kafka=kafka, dsns=dsns, root=self.root)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{next(s.port for s in SERVICES if s.name == service) + self.shape.port_offset}"

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


def start_supervised(shape: Shape = RECOVERY, timeout: float = 180) -> SupervisedPlatform:
    root = state_dir() / "test" / shape.name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "kafka-libs").symlink_to(kafka_libs_dir())  # resolved once, for every platform
    shutil.rmtree(PostgresCluster(root / "postgres", shape.pg_port).data_dir, ignore_errors=True)  # may live elsewhere
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "PAYSAGA_POSTGRES_URL")}
    env.update(
        {
            "PAYSAGA_STATE_DIR": str(root),
            "PAYSAGA_PG_PORT": str(shape.pg_port),
            "PAYSAGA_KAFKA_PORT": str(shape.kafka_port),
            "PAYSAGA_KAFKA_CONTROLLER_PORT": str(shape.kafka_port + 1),
            "ANTIFRAUD_GRPC_PORT": str(shape.grpc_port),
            "PAYSAGA_PROMETHEUS_PORT": str(DEFAULT_PROMETHEUS_PORT + shape.port_offset),
            "PAYSAGA_LOG_FORMAT": "json",
            "PAYSAGA_ZIPKIN_URL": "",  # no Zipkin: the healing measured here is that of Kafka and PostgreSQL
            **{f"{s.env_prefix}PORT": str(s.port + shape.port_offset) for s in SERVICES},
            **shape.env,
        }
    )
    log = root / "paysaga-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paysaga.cli", "run"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    platform = SupervisedPlatform(root, proc, log, shape)
    deadline = time.monotonic() + timeout
    while "ready in" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            platform.stop()
            raise AssertionError(f"`paysaga run` did not come up: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    httpx.get(platform.url("bff") + "/readyz", timeout=5).raise_for_status()
    return platform
