"""`paysaga run`: the whole platform on this machine, under one supervisor."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from paysaga.devstack.broker import KafkaNode, ensure_jars, wait_for_kafka
from paysaga.devstack.catalog import ANTIFRAUD_GRPC_PORT, SERVICES, wiring
from paysaga.devstack.paths import kafka_libs_dir, state_dir
from paysaga.devstack.postgres import PostgresCluster
from paysaga.devstack.probes import kafka_probe, postgres_probe, service_probe
from paysaga.devstack.secrets import dev_environment
from paysaga.devstack.setup import create_topics, prepare_databases
from paysaga.devstack.supervisor import Health, ProcessSpec, Supervisor

DEFAULT_PG_PORT = 55432
DEFAULT_KAFKA_PORT = 9092
DEFAULT_KAFKA_CONTROLLER_PORT = 9093


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


async def _kafka(sup: Supervisor, state: Path, env: dict[str, str]) -> str:
    """The bootstrap address: KAFKA_BOOTSTRAP_SERVERS, or a broker started here."""
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        _say(f"Kafka: using {bootstrap}")
        return bootstrap
    libs = kafka_libs_dir()
    if ensure_jars(libs):
        _say(f"Kafka: broker resolved from Maven Central into {libs}")
    node = KafkaNode(
        state / "kafka",
        libs,
        port=int(os.environ.get("PAYSAGA_KAFKA_PORT", DEFAULT_KAFKA_PORT)),
        controller_port=int(os.environ.get("PAYSAGA_KAFKA_CONTROLLER_PORT", DEFAULT_KAFKA_CONTROLLER_PORT)),
    )
    if node.ensure_formatted():
        _say(f"Kafka: storage formatted in {node.data_dir}")
    # After an unclean stop the new incarnation may register only once the controller has let
    # the old one's session expire (broker.session.timeout.ms): well within 90 s.
    health = Health(kafka_probe(node.bootstrap), start_timeout=90)
    await sup.start(ProcessSpec("kafka", node.command(), stop_timeout=30, health=health))
    env["KAFKA_BOOTSTRAP_SERVERS"] = node.bootstrap
    return node.bootstrap


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
    try:
        admin_url = await _postgres(sup, state, env)
        bootstrap = await _kafka(sup, state, env)
        await wait_for_kafka(bootstrap)

        created = await create_topics(bootstrap)
        _say(f"Kafka: topics ready ({'created ' + ', '.join(created) if created else 'all existed'})")
        await prepare_databases(admin_url)
        _say("PostgreSQL: databases migrated")

        env.update(wiring(_port_of, grpc_port=int(os.environ.get("ANTIFRAUD_GRPC_PORT", ANTIFRAUD_GRPC_PORT))))
        for svc in SERVICES:
            health = Health(service_probe(f"http://127.0.0.1:{_port_of(svc.name)}"), start_timeout=60)
            await sup.start(ProcessSpec(svc.name, [sys.executable, "-m", svc.module], env=env, health=health))
        await asyncio.gather(*(sup.wait_alive(s.name, 60) for s in SERVICES))
        _say(f"ready in {time.monotonic() - started:.1f} s")
        for svc in SERVICES:
            _say(f"  {svc.name:<12} http://127.0.0.1:{_port_of(svc.name)}   (OpenAPI: /docs)")
        _say(f"  kafka      {bootstrap}")
        _say(f"Operators: http://127.0.0.1:{_port_of('ops')}/ops/v1 (OpenAPI: /docs); create an account with")
        _say("  .venv/bin/paysaga operator create --email you@example.org   (then POST /ops/v1/auth/login)")
        _say("Ctrl-C stops everything.")
        await stop.wait()
    finally:
        _say("stopping…")
        await sup.stop_all()
        _say("stopped")
