"""The test session's own PostgreSQL cluster and Kafka broker (own ports and folders, so a
`make run` platform on the same machine is left alone). The broker is secured as `make run`'s is
(SASL/SCRAM, ACLs): the tests read and write topics directly as its super user, `infra.kafka`."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from paysaga.devstack.broker import KafkaNode, ensure_jars
from paysaga.devstack.kafka_principals import ADMIN
from paysaga.devstack.paths import kafka_libs_dir, state_dir, zipkin_libs_dir
from paysaga.devstack.postgres import PostgresCluster
from paysaga.devstack.secrets import kafka_passwords
from paysaga.devstack.supervisor import die_with_parent
from paysaga.devstack.zipkin import ensure_jar as ensure_zipkin_jar
from paysaga.platform.kafka import KafkaAccess

TEST_PG_PORT = int(os.environ.get("PAYSAGA_TEST_PG_PORT", "55433"))
TEST_KAFKA_PORT = int(os.environ.get("PAYSAGA_TEST_KAFKA_PORT", "19092"))
TEST_KAFKA_CONTROLLER_PORT = int(os.environ.get("PAYSAGA_TEST_KAFKA_CONTROLLER_PORT", "19093"))


@dataclass
class Infra:
    admin_url: str
    kafka: KafkaAccess  # as the broker's super user: what the tests produce and consume directly
    dsns: dict[str, str]
    root: Path

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap_servers


class TestInfra:
    def __init__(self) -> None:
        self.root = state_dir() / "test"
        self.logs = self.root / "logs"
        self.procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, argv: list[str], user: str | None = None) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{name}.log").open("wb")
        self.procs.append(
            subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                user=user,
                start_new_session=True,
            )
        )

    async def start(self) -> tuple[str, KafkaAccess]:
        if self.root.exists():
            shutil.rmtree(self.root)  # fresh data every session
        cluster = PostgresCluster(self.root / "postgres", TEST_PG_PORT, fsync=False)
        shutil.rmtree(cluster.data_dir, ignore_errors=True)  # it may live outside the state dir
        cluster.ensure_initialized()
        self._spawn("postgres", cluster.command(), user=cluster.run_as)
        libs = kafka_libs_dir()
        ensure_jars(libs)
        ensure_zipkin_jar(zipkin_libs_dir())  # the end-to-end tests start it (tests/e2e/conftest.py)
        node = KafkaNode(
            self.root / "kafka",
            libs,
            port=TEST_KAFKA_PORT,
            controller_port=TEST_KAFKA_CONTROLLER_PORT,
            admin_password=kafka_passwords(self.root)[ADMIN],  # the session's secrets.env
        )
        node.ensure_formatted()
        self._spawn("kafka", node.command())
        await cluster.wait_ready()
        await node.wait_ready()
        return cluster.admin_url, node.admin

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
