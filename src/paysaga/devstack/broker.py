"""Apache Kafka (KRaft, combined broker+controller) run from its Maven Central jars."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient

from paysaga.devstack.maven import copy_dependencies

FILES = Path(__file__).parent / "broker_files"


def ensure_jars(libs_dir: Path) -> bool:
    """Resolve the broker's classpath with Maven once; True if it downloaded now."""
    return copy_dependencies(FILES / "pom.xml", libs_dir)


def new_cluster_id() -> str:
    """A random KRaft cluster id, never starting with "-" (the tool would read it as an option;
    Kafka's own `Uuid.randomUuid` draws again in that case too)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class KafkaNode:
    data_dir: Path
    libs_dir: Path
    port: int
    controller_port: int
    partitions: int = 6
    heap: str = "512m"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            "-cp",
            f"{self.libs_dir}/*",
            f"-Dlog4j2.configurationFile={FILES / 'log4j2.xml'}",
            f"-Dkafka.logs.dir={self.data_dir / 'logs'}",
            main,
            *args,
        ]

    def ensure_formatted(self) -> bool:
        """Write the config and format the storage on first use; True if it formatted now."""
        log_dir = self.data_dir / "log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={log_dir}",
                    f"num.partitions={self.partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    # After a crash the restarted broker is refused (DUPLICATE_BROKER_REGISTRATION)
                    # until the controller expires the dead incarnation's session, which it
                    # starts afresh on activation: the session timeout is the restart's floor
                    # (default 9 s). Heartbeats here cross the loopback every second.
                    "broker.session.timeout.ms=4000",
                    "broker.heartbeat.interval.ms=1000",
                    "auto.create.topics.enable=false",
                    "",
                ]
            )
        )
        if (log_dir / "meta.properties").exists():
            return False
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                new_cluster_id(),
                "-c",
                str(self.properties_file),
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return True

    def command(self) -> list[str]:
        return [
            "java",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            *self._java("kafka.Kafka", str(self.properties_file))[1:],
        ]

    async def wait_ready(self, timeout: float = 90.0) -> None:
        await wait_for_kafka(self.bootstrap, timeout)


async def wait_for_kafka(bootstrap: str, timeout: float = 90.0) -> None:
    """Until the cluster answers a metadata request with at least one broker."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})  # refusals are expected here
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            meta = await asyncio.to_thread(admin.list_topics, timeout=2)
            if meta.brokers:
                return
        except Exception:
            if loop.time() > deadline:
                raise
        if loop.time() > deadline:
            raise TimeoutError(f"Kafka at {bootstrap} did not answer in {timeout} s")
        await asyncio.sleep(0.3)
