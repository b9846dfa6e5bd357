"""Apache Kafka (KRaft, combined broker+controller nodes) run from its Maven Central jars, secured as a
production cluster would be: clients authenticate (SASL/SCRAM-SHA-512) and an authorizer checks
every request against the ACLs (`kafka_principals`); `admin` is the only super user.

One node by default; `cluster_nodes(n)` makes n (3 for the scaled shape): each a voter of the
controller quorum, topics replicated min(n, 3) times with `min.insync.replicas=2` once n ≥ 3, so a
producer's `acks=all` write survives the loss of one node."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import AdminClient

from paysaga.devstack.kafka_principals import ADMIN, SASL_MECHANISM, admin_access
from paysaga.devstack.maven import copy_dependencies
from paysaga.platform.kafka import KafkaAccess

FILES = Path(__file__).parent / "broker_files"


class MissingJava(RuntimeError):
    pass


class StorageOfAnotherAdmin(RuntimeError):
    """The broker's storage was formatted before SASL, or for another admin password."""


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


# Node i of a cluster listens on the first node's ports + NODE_PORT_STRIDE * (i - 1).
NODE_PORT_STRIDE = 100


@dataclass
class KafkaNode:
    data_dir: Path
    libs_dir: Path
    port: int
    controller_port: int
    admin_password: str = field(repr=False)
    partitions: int = 6
    heap: str = "512m"
    node_id: int = 1
    # `id@host:port` of every controller; None: this node alone
    voters: str | None = None
    cluster_size: int = 1
    # the cluster's id, shared by every node's storage; None: a new one at format time
    cluster_id: str | None = None

    @property
    def replication_factor(self) -> int:
        return min(self.cluster_size, 3)

    @property
    def min_insync_replicas(self) -> int:
        return 2 if self.replication_factor >= 3 else 1

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def admin(self) -> KafkaAccess:
        """The super user's access: topics, principals and ACLs (and the tests' direct reads and writes)."""
        return admin_access(self.bootstrap, self.admin_password)

    @property
    def _admin_stamp(self) -> Path:
        """A digest of the admin password the storage was formatted with (the credential lives in its
        metadata log): a mismatch would only show as failing logins."""
        return self.data_dir / "admin-password.sha256"

    def _admin_digest(self) -> str:
        return hashlib.sha256(b"paysaga-kafka-admin:" + self.admin_password.encode()).hexdigest()

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
        """Write the config and format the storage on first use; True if it formatted now.

        Raises StorageOfAnotherAdmin for a storage formatted before SASL or for another admin password."""
        log_dir = self.data_dir / "log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        scram = f'username="{ADMIN}" password="{self.admin_password}"'
        properties = "\n".join(
            [
                "process.roles=broker,controller",
                f"node.id={self.node_id}",
                f"controller.quorum.voters={self.voters or f'{self.node_id}@127.0.0.1:{self.controller_port}'}",
                f"listeners=CLIENT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=CLIENT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=CLIENT",
                "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
                # Clients, and the broker itself, log in with SCRAM; the credentials live in the
                # metadata log: the admin's put there by `format --add-scram`, the services' by
                # kafka_principals once the broker is up.
                f"listener.name.client.sasl.enabled.mechanisms={SASL_MECHANISM}",
                f"sasl.mechanism.inter.broker.protocol={SASL_MECHANISM}",
                f"listener.name.client.{SASL_MECHANISM.lower()}.sasl.jaas.config="
                f"org.apache.kafka.common.security.scram.ScramLoginModule required {scram};",
                # SCRAM cannot be checked on the controller listener (its credentials are in the
                # metadata log the controller itself serves; KIP-900 bootstraps them for brokers
                # only). So the controller (on 127.0.0.1) takes SASL/PLAIN with the admin password
                # of this file (mode 0600), not PLAINTEXT: that would make anyone on this host who
                # connects to it a super user (ANONYMOUS would have to be one for the broker to register).
                "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
                "sasl.mechanism.controller.protocol=PLAIN",
                "listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain."
                f'PlainLoginModule required {scram} user_{ADMIN}="{self.admin_password}";',
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                f"super.users=User:{ADMIN}",
                "allow.everyone.if.no.acl.found=false",
                f"log.dirs={log_dir}",
                f"num.partitions={self.partitions}",
                # Every topic, the internal ones included, on min(nodes, 3) replicas; with 3, a write
                # (acks=all) needs 2 of them in sync, so one node may be lost without losing a record.
                f"default.replication.factor={self.replication_factor}",
                f"min.insync.replicas={self.min_insync_replicas}",
                f"offsets.topic.replication.factor={self.replication_factor}",
                "offsets.topic.num.partitions=6",
                f"transaction.state.log.replication.factor={self.replication_factor}",
                f"transaction.state.log.min.isr={self.min_insync_replicas}",
                f"share.coordinator.state.topic.replication.factor={self.replication_factor}",
                f"share.coordinator.state.topic.min.isr={self.min_insync_replicas}",
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
        _write_private(self.properties_file, properties)  # it holds the admin password
        if (log_dir / "meta.properties").exists():
            stamp = self._admin_stamp.read_text().strip() if self._admin_stamp.exists() else None
            if stamp != self._admin_digest():
                raise StorageOfAnotherAdmin(
                    f"Kafka's storage in {self.data_dir} was formatted "
                    + ("before SASL was enabled" if stamp is None else "for another admin password")
                    + ": delete that folder to format it anew (its topics are lost), or restore "
                    "the admin password it was formatted with"
                )
            return False
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                self.cluster_id or new_cluster_id(),
                "-c",
                str(self.properties_file),
                "--add-scram",
                f"{SASL_MECHANISM}=[name={ADMIN},password={self.admin_password}]",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        _write_private(self._admin_stamp, self._admin_digest() + "\n")
        return True

    def command(self) -> list[str]:
        return [
            "java",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            # One collector thread, no concurrent marking or G1's write barriers: measured 10 % less of
            # the broker's CPU per payment than G1 (3.6 against 4.0 ms, four A/B rounds at 60/s); a
            # local broker's heap has little live data, so its young collections stay short.
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            *self._java("kafka.Kafka", str(self.properties_file))[1:],
        ]

    async def wait_ready(self, timeout: float = 90.0) -> None:
        await wait_for_kafka(self.admin, timeout, brokers=self.cluster_size)


def cluster_nodes(
    root: Path, libs_dir: Path, *, size: int, port: int, controller_port: int, admin_password: str
) -> list[KafkaNode]:
    """The nodes of a local cluster: one in `root` (the single node), or `size` in `root/node-<i>`, node i
    on `port`/`controller_port` + NODE_PORT_STRIDE * (i - 1), sharing one cluster id (kept in root)."""
    if size == 1:
        return [KafkaNode(root, libs_dir, port=port, controller_port=controller_port, admin_password=admin_password)]
    root.mkdir(parents=True, exist_ok=True)
    id_file = root / "cluster.id"
    if not id_file.exists():
        id_file.write_text(new_cluster_id() + "\n")
    cluster_id = id_file.read_text().strip()
    ports = [
        (i, port + NODE_PORT_STRIDE * (i - 1), controller_port + NODE_PORT_STRIDE * (i - 1)) for i in range(1, size + 1)
    ]
    voters = ",".join(f"{i}@127.0.0.1:{c}" for i, _, c in ports)
    return [
        KafkaNode(
            root / f"node-{i}",
            libs_dir,
            port=p,
            controller_port=c,
            admin_password=admin_password,
            node_id=i,
            voters=voters,
            cluster_size=size,
            cluster_id=cluster_id,
            heap="384m",  # three JVMs on one machine
        )
        for i, p, c in ports
    ]


def bootstrap_of(nodes: list[KafkaNode]) -> str:
    return ",".join(n.bootstrap for n in nodes)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (mode 0600 from its creation)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


async def wait_for_kafka(kafka: KafkaAccess, timeout: float = 90.0, *, brokers: int = 1) -> None:
    """Until the cluster answers a metadata request listing at least `brokers` brokers."""
    admin = AdminClient(kafka.client_config(log_level=0))  # refusals are expected here
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            meta = await asyncio.to_thread(admin.list_topics, timeout=2)
            if len(meta.brokers) >= brokers:
                return
        except Exception:
            if loop.time() > deadline:
                raise
        if loop.time() > deadline:
            raise TimeoutError(f"Kafka at {kafka.bootstrap_servers} did not answer in {timeout} s")
        await asyncio.sleep(0.3)
