"""The scaled shape under faults (SPEC §12, issue 14): `paysaga run` with a 3-node Kafka cluster
(replication factor 3, `min.insync.replicas=2`, producers `acks=all`) and two instances each of Wallet,
Payment, Callback, Query, Anti-Fraud and the BFF (sharing their ports with SO_REUSEPORT), while a
client streams payments:

- one broker is killed with SIGKILL (the supervisor restarts it);
- one instance of each of those services is killed with SIGKILL, all at once;
- every instance is restarted one after another with SIGTERM (a rolling deploy).

After each, every accepted payment is final and COMPLETED, SPEC §5's invariants hold (one final event
per payment, each reservation settled once, money conserved, no payout sent twice; an inbox applies an
event once by its primary key), and every consumer group's lag returns to zero. Each test prints what
its fault cost: the longest a client waited for a payment to be accepted, and how long the sagas took.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from paysaga.devstack.catalog import ANTIFRAUD_GRPC_PORT
from paysaga.services.ops.kafka_clients import OpsKafka
from tests.support.load import Sender
from tests.support.saga import Customer, check_invariants, register
from tests.support.supervised import Shape, SupervisedPlatform, start_supervised

pytestmark = pytest.mark.e2e

SCALED = ("wallet", "payment", "callback", "query", "antifraud", "bff")
SHAPE = Shape(
    "scaled",
    port_offset=16000,  # BFF on 24000; instances on their own ports + 100 and + 200
    pg_port=55435,
    kafka_port=32092,  # nodes on 32092, 32192, 32292
    grpc_port=ANTIFRAUD_GRPC_PORT - 2000,
    env={"PAYSAGA_KAFKA_BROKERS": "3", **{f"{name.upper()}_INSTANCES": "2" for name in SCALED}},
)
CUSTOMERS = 10
PAUSE = 0.15  # between two payments of the client: about 5 a second on this machine


@pytest.fixture(scope="module")
def scaled() -> Iterator[SupervisedPlatform]:
    platform = start_supervised(SHAPE, timeout=300)
    try:
        yield platform
    finally:
        platform.stop()


def registered(client: httpx.Client) -> Customer:
    """A new customer with money, registered as a well-behaved client would: again after a 503."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return register(client, top_up=10_000_000)
        except (AssertionError, httpx.TransportError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@pytest.fixture
def customers(scaled: SupervisedPlatform) -> Iterator[list[Customer]]:
    with httpx.Client(base_url=scaled.url("bff"), timeout=10) as client:
        yield [registered(client) for _ in range(CUSTOMERS)]


def test_the_scaled_shape_runs_three_replicated_brokers_and_two_instances_behind_one_port(
    scaled: SupervisedPlatform,
) -> None:
    status = scaled.status()
    assert {f"kafka-{i}" for i in (1, 2, 3)} <= status.keys()
    for name in SCALED:
        assert {f"{name}-1", f"{name}-2"} <= status.keys(), name
        assert name not in status
    assert "dwh" in status and "dwh-2" not in status  # one DuckDB writer
    admin = OpsKafka(scaled.infra.kafka).admin()
    metadata = admin.list_topics(timeout=10)
    assert len(metadata.brokers) == 3
    partitions = metadata.topics["payment-events"].partitions.values()
    assert all(len(p.replicas) == 3 for p in partitions)
    # Both Wallet instances answer on Wallet's port: connections are spread over them by the kernel.
    pids = set()
    for _ in range(40):
        with httpx.Client() as fresh:  # a new connection each time
            pids.add(fresh.get(scaled.url("wallet") + "/healthz").json()["instance"])
    assert len(pids) == 2, pids


def lag(scaled: SupervisedPlatform) -> dict[str, int]:
    view = OpsKafka(scaled.infra.kafka).cluster_view(timeout=10, size_of=lambda _topic: False)
    return {g.group: sum(p.lag for p in g.partitions) for g in view.groups}


async def settled(scaled: SupervisedPlatform, customers: list[Customer], sender: Sender, fault: str) -> None:
    """Every accepted payment completed, the invariants hold, the groups caught up; prints the fault's cost."""
    assert sender.error is None, repr(sender.error)
    ids = list(sender.ids)
    assert len(set(ids)) == len(ids), "one payment id answered for two requests"
    finals = {pid: customers[sender.owners[pid]].wait_final(pid, timeout=180) for pid in ids}
    failed = {pid: v["errorCode"] for pid, v in finals.items() if v["status"] != "COMPLETED"}
    assert not failed, f"every payment should complete: {failed}"
    await check_invariants(scaled.infra, scaled.url("provider_sim"), ids)
    deadline = time.monotonic() + 90
    while any((found := lag(scaled)).values()):
        assert time.monotonic() < deadline, f"consumer groups still lag: { {g: n for g, n in found.items() if n} }"
        await asyncio.sleep(1)
    took = sorted(
        (datetime.fromisoformat(v["updatedAt"]) - datetime.fromisoformat(v["createdAt"])).total_seconds()
        for v in finals.values()
    )
    print(
        f"\n{fault}: {len(ids)} payments, {sender.failures} client retries, longest wait for a 202"
        f" {max(sender.waited.values()):.1f} s; saga p50 {statistics.median(took):.2f} s,"
        f" p99 {took[int(len(took) * 0.99) - 1]:.2f} s, max {took[-1]:.2f} s, {sum(t > 2 for t in took)} over 2 s"
    )


def wait_healthy_again(scaled: SupervisedPlatform, names: list[str], pids: dict[str, int]) -> float:
    started = time.monotonic()
    for name in names:
        scaled.wait_healthy(name, replacing=pids[name], timeout=120)
    return time.monotonic() - started


async def test_one_broker_killed_and_restarted_mid_stream(
    scaled: SupervisedPlatform, customers: list[Customer]
) -> None:
    with Sender(customers, scaled.url("bff"), max_payments=150, pause=PAUSE) as sender:
        sender.wait(lambda: sender.accepted() >= 30, "30 payments accepted")
        pid = scaled.pid("kafka-2")
        os.kill(pid, signal.SIGKILL)
        at_kill = sender.accepted()
        back_in = wait_healthy_again(scaled, ["kafka-2"], {"kafka-2": pid})
        sender.wait(lambda: sender.accepted() >= at_kill + 30, "30 payments accepted after the kill", timeout=90)
    print(f"\nkafka-2 back {back_in:.1f} s after SIGKILL; {sender.accepted() - at_kill} payments accepted since")
    await settled(scaled, customers, sender, "one broker killed")
    assert not {n: c["restarts"] for n, c in scaled.status().items() if c["restarts"] and not n.startswith("kafka")}


async def test_one_instance_of_each_service_killed_mid_stream(
    scaled: SupervisedPlatform, customers: list[Customer]
) -> None:
    victims = [f"{name}-1" for name in SCALED]
    with Sender(customers, scaled.url("bff"), max_payments=150, pause=PAUSE) as sender:
        sender.wait(lambda: sender.accepted() >= 30, "30 payments accepted")
        pids = {name: scaled.pid(name) for name in victims}
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
        at_kill = sender.accepted()
        back_in = wait_healthy_again(scaled, victims, pids)
        sender.wait(lambda: sender.accepted() >= at_kill + 30, "30 payments accepted after the kills", timeout=90)
    print(f"\nthe killed instances healthy again {back_in:.1f} s later")
    await settled(scaled, customers, sender, "one instance of each service killed")


async def test_a_rolling_restart_of_every_instance(scaled: SupervisedPlatform, customers: list[Customer]) -> None:
    order = [f"{name}-{i}" for name in SCALED for i in (1, 2)]
    # 10 customers: at most 1000 payments an hour under Anti-Fraud's velocity limit; a rollout here takes minutes.
    with Sender(customers, scaled.url("bff"), max_payments=900, pause=PAUSE) as sender:
        sender.wait(lambda: sender.accepted() >= 20, "20 payments accepted")
        started = time.monotonic()
        for name in order:
            pid = scaled.pid(name)
            os.kill(pid, signal.SIGTERM)
            scaled.wait_healthy(name, replacing=pid, timeout=120)
        rolled_in = time.monotonic() - started
        at_end = sender.accepted()
        sender.wait(lambda: sender.accepted() >= at_end + 10, "payments accepted after the rollout", timeout=60)
    print(f"\nrolling restart of {len(order)} instances took {rolled_in:.0f} s")
    await settled(scaled, customers, sender, "rolling restart")
