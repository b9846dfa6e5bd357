"""`paysaga run`: the whole platform on this machine, under one supervisor."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from paysaga.devstack.broker import bootstrap_of, cluster_nodes, ensure_jars, wait_for_kafka
from paysaga.devstack.catalog import ANTIFRAUD_GRPC_PORT, SERVICES, Instance, instance_count, instances, wiring
from paysaga.devstack.kafka_principals import ADMIN, admin_access, ensure_principals, service_environments
from paysaga.devstack.paths import kafka_libs_dir, state_dir, zipkin_libs_dir
from paysaga.devstack.postgres import PostgresCluster
from paysaga.devstack.probes import kafka_probe, postgres_probe, service_probe, zipkin_probe
from paysaga.devstack.prometheus import (
    DEFAULT_PROMETHEUS_PORT,
    PrometheusServer,
    port_taken,
    prometheus_binary,
    prometheus_probe,
    service_targets,
)
from paysaga.devstack.secrets import dev_environment, kafka_passwords
from paysaga.devstack.setup import create_topics, prepare_databases
from paysaga.devstack.supervisor import Health, ProcessSpec, Supervisor
from paysaga.devstack.zipkin import ZipkinServer, ensure_jar
from paysaga.platform.kafka import KafkaAccess, kafka_access
from paysaga.platform.settings import PlatformSettings

DEFAULT_PG_PORT = 55432
DEFAULT_KAFKA_PORT = 9092
DEFAULT_KAFKA_CONTROLLER_PORT = 9093
DEFAULT_ZIPKIN_PORT = 9411


def _say(message: str) -> None:
    print(f"{'paysaga':>18} | {message}", flush=True)


def _port_of(name: str) -> int:
    entry = next(s for s in SERVICES if s.name == name)
    return int(os.environ.get(entry.env_prefix + "PORT", entry.port))


async def _postgres(sup: Supervisor, state: Path, env: dict[str, str]) -> str:
    """The admin DSN: PAYSAGA_POSTGRES_URL, or a private cluster started here."""
    if admin_url := os.environ.get("PAYSAGA_POSTGRES_URL"):
        _say(f"PostgreSQL: using {admin_url.rsplit('@', 1)[-1]}")
        return admin_url
    cluster = PostgresCluster(state / "postgres", int(os.environ.get("PAYSAGA_PG_PORT", DEFAULT_PG_PORT)))
    if cluster.ensure_initialized():
        _say(f"PostgreSQL: new cluster in {cluster.data_dir}")
    # Crash recovery replays the WAL before the server accepts connections: 120 s for that.
    health = Health(postgres_probe(cluster.admin_url), start_timeout=120)
    spec = ProcessSpec("postgres", cluster.command(), user=cluster.run_as, stop_signal=signal.SIGINT, health=health)
    await sup.start(spec)
    await sup.wait_alive("postgres", 120)
    env["PAYSAGA_POSTGRES_URL"] = cluster.admin_url
    return cluster.admin_url


async def _kafka(
    sup: Supervisor, state: Path, env: dict[str, str], admin_password: str
) -> tuple[KafkaAccess, bool, int]:
    """The admin's access: KAFKA_BOOTSTRAP_SERVERS with this environment's KAFKA_* settings (every
    service logs in with them too), or a cluster of PAYSAGA_KAFKA_BROKERS nodes started here (True: its
    principals are ours to make); and the replication factor of the topics to make."""
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        _say(f"Kafka: using {bootstrap}")
        replication = int(os.environ.get("PAYSAGA_KAFKA_REPLICATION_FACTOR", "1"))
        return kafka_access(PlatformSettings()), False, replication
    libs = kafka_libs_dir()
    if ensure_jars(libs):
        _say(f"Kafka: broker resolved from Maven Central into {libs}")
    size = int(os.environ.get("PAYSAGA_KAFKA_BROKERS", "1"))
    if size < 1:
        raise SystemExit("PAYSAGA_KAFKA_BROKERS must be 1 or more")
    nodes = cluster_nodes(
        state / ("kafka" if size == 1 else "kafka-cluster"),
        libs,
        size=size,
        port=int(os.environ.get("PAYSAGA_KAFKA_PORT", DEFAULT_KAFKA_PORT)),
        controller_port=int(os.environ.get("PAYSAGA_KAFKA_CONTROLLER_PORT", DEFAULT_KAFKA_CONTROLLER_PORT)),
        admin_password=admin_password,
    )
    for node in nodes:
        if node.ensure_formatted():
            _say(f"Kafka: storage formatted in {node.data_dir}")
    for node in nodes:
        # After an unclean stop the new incarnation may register only once the controller has let
        # the old one's session expire (broker.session.timeout.ms): well within 90 s.
        health = Health(kafka_probe(node.admin), start_timeout=90)
        name = "kafka" if size == 1 else f"kafka-{node.node_id}"
        await sup.start(ProcessSpec(name, node.command(), stop_timeout=30, health=health, stop_group="kafka"))
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap_of(nodes)
    if size > 1:
        _say(f"Kafka: {size} nodes, replication factor {nodes[0].replication_factor}, "
             f"min.insync.replicas {nodes[0].min_insync_replicas}")  # fmt: skip
    return admin_access(bootstrap_of(nodes), admin_password), True, nodes[0].replication_factor


async def _services(sup: Supervisor, env: dict[str, str], services_kafka: dict[str, dict[str, str]]) -> list[Instance]:
    """Start every instance of every service; each probed at its own port when it shares the service's."""
    processes = _instances()
    for proc in processes:
        port = proc.own_port or _port_of(proc.entry.name)
        health = Health(service_probe(f"http://127.0.0.1:{port}"), start_timeout=60)
        svc_env = {**env, **services_kafka.get(proc.entry.name, {})}
        if proc.own_port is not None:
            svc_env["PAYSAGA_INSTANCE_PORT"] = str(proc.own_port)
        argv = [sys.executable, "-m", proc.entry.module]
        spec = ProcessSpec(proc.name, argv, env=svc_env, health=health, stop_group=proc.entry.name)
        await sup.start(spec)
    return processes


def _service_urls(own_ports: dict[str, list[int]]) -> None:
    for svc in SERVICES:
        url = f"http://127.0.0.1:{_port_of(svc.name)}"
        ports = own_ports[svc.name]
        several = f"   ({len(ports)} instances, each also on :{', :'.join(map(str, ports))})" if ports else ""
        _say(f"  {svc.name:<12} {url}   (OpenAPI: /docs){several}")


def _instances() -> list[Instance]:
    """Every process of every service: PAYSAGA_INSTANCES / <SERVICE>_INSTANCES of each scalable one."""
    try:
        return [
            proc for svc in SERVICES for proc in instances(svc, instance_count(svc, os.environ), _port_of(svc.name))
        ]
    except ValueError as exc:
        raise SystemExit(f"refusing to start: {exc}") from exc


async def _prometheus(sup: Supervisor, state: Path, own_ports: dict[str, list[int]]) -> str | None:
    """The URL of a Prometheus started here, scraping every service; None if it is not installed."""
    binary = prometheus_binary()
    if binary is None:
        _say("Prometheus: not installed (Debian: apt-get install prometheus); metrics are not collected")
        return None
    port = int(os.environ.get("PAYSAGA_PROMETHEUS_PORT", DEFAULT_PROMETHEUS_PORT))
    if port_taken(port):
        _say(f"Prometheus: port {port} is taken (by Debian's own prometheus service? `systemctl disable --now")
        _say("  prometheus`; or set PAYSAGA_PROMETHEUS_PORT); not started")
        return None
    server = PrometheusServer(state / "prometheus", port, service_targets(_port_of, own_ports), binary=binary)
    server.write_config()
    # It replays its write-ahead log before it answers ready: 120 s for that.
    await sup.start(ProcessSpec("prometheus", server.command(), health=Health(prometheus_probe(server.url), 120)))
    return server.url


async def _zipkin(sup: Supervisor, env: dict[str, str]) -> tuple[str | None, bool]:
    """Where the services export spans: PAYSAGA_ZIPKIN_URL, or a Zipkin started here (then True);
    None when PAYSAGA_ZIPKIN_URL is set empty (no export)."""
    if "PAYSAGA_ZIPKIN_URL" in os.environ:
        url = os.environ["PAYSAGA_ZIPKIN_URL"]
        _say(f"Zipkin: using {url}" if url else "Zipkin: none (PAYSAGA_ZIPKIN_URL is empty): spans are not exported")
        env.setdefault("OPS_ZIPKIN_URL", os.environ.get("OPS_ZIPKIN_URL", url))  # the timeline's trace links
        return url or None, False
    libs = zipkin_libs_dir()
    if ensure_jar(libs):
        _say(f"Zipkin: server resolved from Maven Central into {libs}")
    server = ZipkinServer(libs, port=int(os.environ.get("PAYSAGA_ZIPKIN_PORT", DEFAULT_ZIPKIN_PORT)))
    # Its traces live in its memory and die with it: more patience (5 failed probes) than a stateless process.
    health = Health(zipkin_probe(server.url), start_timeout=90, failures=5)
    await sup.start(ProcessSpec("zipkin", server.command(), stop_timeout=15, health=health))
    env["PAYSAGA_ZIPKIN_URL"] = server.url
    env.setdefault("OPS_ZIPKIN_URL", os.environ.get("OPS_ZIPKIN_URL", server.url))  # the timeline's trace links
    # Spans reach Zipkin about a second after the request (the SDK's default batches every 5 s).
    env["OTEL_BSP_SCHEDULE_DELAY"] = os.environ.get("OTEL_BSP_SCHEDULE_DELAY", "1000")
    return server.url, True


async def run_platform() -> None:
    started = time.monotonic()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    state = state_dir()
    state.mkdir(parents=True, exist_ok=True)
    sup = Supervisor(status_file=state / "supervisor.json")
    env: dict[str, str] = {
        "PAYSAGA_LOG_FORMAT": os.environ.get("PAYSAGA_LOG_FORMAT", "console"),
        # Every client of the local platform (browser, bench, tests) is 127.0.0.1: a per-address
        # login limit would throttle them all as one; the per-account limit still applies.
        "BFF_AUTH_ADDRESS_LIMIT": os.environ.get("BFF_AUTH_ADDRESS_LIMIT", "100000"),
    }
    env.update(dev_environment(state, os.environ))
    passwords = kafka_passwords(state)
    try:
        admin_url = await _postgres(sup, state, env)
        kafka, ours, replication = await _kafka(sup, state, env, passwords[ADMIN])
        await wait_for_kafka(kafka, brokers=replication)
        zipkin, zipkin_here = await _zipkin(sup, env)  # its JVM starts while topics and databases are made

        created = await create_topics(kafka, replication_factor=replication)
        _say(f"Kafka: topics ready ({'created ' + ', '.join(created) if created else 'all existed'})")
        # Each service logs in as itself, with only its own password in its environment.
        services_kafka = service_environments(kafka.bootstrap_servers, passwords) if ours else {}
        if ours:
            changed = await ensure_principals(kafka, passwords)
            _say(f"Kafka: a principal per service, with its ACLs ({changed} ACLs changed)")
        await prepare_databases(admin_url)
        _say("PostgreSQL: databases migrated")

        env.update(wiring(_port_of, grpc_port=int(os.environ.get("ANTIFRAUD_GRPC_PORT", ANTIFRAUD_GRPC_PORT))))
        processes = await _services(sup, env, services_kafka)
        own_ports = {
            svc.name: [p.own_port for p in processes if p.entry is svc and p.own_port is not None] for svc in SERVICES
        }
        prometheus = await _prometheus(sup, state, own_ports)
        waits = [sup.wait_alive(p.name, 60) for p in processes] + (
            [sup.wait_alive("zipkin", 90)] if zipkin_here else []
        )
        await asyncio.gather(*waits)
        if prometheus is not None:
            await sup.wait_alive("prometheus", 120)
        _say(f"ready in {time.monotonic() - started:.1f} s")
        _service_urls(own_ports)
        _say(f"  kafka      {kafka.bootstrap_servers}")
        if prometheus is not None:
            _say(f"  prometheus {prometheus}   (every service's /metrics; /classic/targets, /classic/alerts)")
        if zipkin:
            _say(f"  zipkin     {zipkin}/zipkin/   (traces; a payment's: X-Trace-Id of its POST)")
        _say(f"Operators: http://127.0.0.1:{_port_of('ops')}/ops/v1 (OpenAPI: /docs); create an account with")
        _say("  .venv/bin/paysaga operator create --email you@example.org   (then POST /ops/v1/auth/login)")
        _say("Ctrl-C stops everything.")
        await stop.wait()
    finally:
        _say("stopping…")
        await sup.stop_all()
        _say("stopped")
