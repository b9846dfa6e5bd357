"""The platform heals from a crash of its infrastructure without a person (issue 9).

`paysaga run` is started as an operator starts it (the supervisor with its own PostgreSQL, Kafka
broker and every service); a client streams payments (about 10/s over 10 customers) while the
broker is killed with SIGKILL, stopped with SIGSTOP (a hung JVM), or PostgreSQL's postmaster is
killed. The supervisor must bring each back by itself; the services stay up and say what they
wait for; every accepted payment completes, and SPEC §5's invariants hold (one final event per
payment, each reservation settled once, money conserved, no payout twice).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from paysaga.devstack.catalog import SERVICES
from tests.support.load import Sender
from tests.support.saga import Customer, check_invariants, register
from tests.support.supervised import SupervisedPlatform, start_supervised

pytestmark = pytest.mark.e2e

CUSTOMERS = 10
PAYMENTS = 200  # 20 a customer: far below Anti-Fraud's velocity limit
PAUSE = 0.1  # between two payments of the client: about 10 a second


@pytest.fixture(scope="module")
def supervised() -> Iterator[SupervisedPlatform]:
    platform = start_supervised()
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture
def customers(supervised: SupervisedPlatform) -> Iterator[list[Customer]]:
    with httpx.Client(base_url=supervised.url("bff"), timeout=10) as client:
        yield [register(client, top_up=10_000_000) for _ in range(CUSTOMERS)]


def kafka_readiness(supervised: SupervisedPlatform, service: str) -> str | None:
    """What the service's /readyz says of Kafka ("ok" or "failing"); None when it does not answer."""
    try:
        return httpx.get(supervised.url(service) + "/readyz", timeout=5).json()["checks"].get("kafka")
    except httpx.TransportError:
        return None


async def all_completed(supervised: SupervisedPlatform, customers: list[Customer], sender: Sender) -> None:
    ids = list(sender.ids)
    assert len(set(ids)) == len(ids), "one payment id answered for two requests"
    finals = {pid: customers[sender.owners[pid]].wait_final(pid, timeout=120) for pid in ids}
    failed = {pid: v["errorCode"] for pid, v in finals.items() if v["status"] != "COMPLETED"}
    assert not failed, f"every payment should complete once the platform healed: {failed}"
    await check_invariants(supervised.infra, supervised.url("provider_sim"), ids)


def services_never_restarted(supervised: SupervisedPlatform) -> None:
    status = supervised.status()
    restarted = {s.name: status[s.name]["restarts"] for s in SERVICES if status[s.name]["restarts"]}
    assert not restarted, f"services restarted while the infrastructure healed: {restarted}"


async def test_a_broker_killed_mid_stream_comes_back_and_every_payment_completes(
    supervised: SupervisedPlatform, customers: list[Customer]
) -> None:
    restarts = supervised.status()["kafka"]["restarts"]
    with Sender(customers, supervised.url("bff"), max_payments=PAYMENTS, pause=PAUSE) as sender:
        sender.wait(lambda: sender.accepted() >= 40, "40 payments accepted")
        broker = supervised.pid("kafka")
        os.kill(broker, signal.SIGKILL)
        at_kill = sender.accepted()
        # While it is down the services stay up and say so, and the BFF keeps accepting payments
        # (they wait in Wallet's outbox).
        deadline = time.monotonic() + 30
        while kafka_readiness(supervised, "payment") != "failing":
            assert time.monotonic() < deadline, "Payment's /readyz never named Kafka as failing"
            time.sleep(0.2)
        down_for = supervised.wait_healthy("kafka", replacing=broker, timeout=120)
        accepted_while_down = sender.accepted() - at_kill
        assert accepted_while_down >= 5, f"only {accepted_while_down} payments accepted while the broker was down"
        up_from = sender.accepted()
        sender.wait(
            lambda: sender.accepted() >= min(up_from + 20, PAYMENTS), "payments accepted after the broker came back"
        )
    assert sender.error is None, repr(sender.error)
    print(f"broker back {down_for:.1f} s after SIGKILL; {accepted_while_down} payments accepted meanwhile")
    assert supervised.status()["kafka"]["restarts"] == restarts + 1
    assert any("CRASHED with exit code -9" in line for line in supervised.lines_of("kafka"))
    await all_completed(supervised, customers, sender)
    for service in ("payment", "wallet", "bff"):
        assert httpx.get(supervised.url(service) + "/readyz", timeout=5).status_code == 200, service
    services_never_restarted(supervised)


async def test_a_hung_broker_is_detected_ended_and_restarted(
    supervised: SupervisedPlatform, customers: list[Customer]
) -> None:
    broker = supervised.pid("kafka")
    os.kill(broker, signal.SIGSTOP)  # alive to the kernel, deaf to everyone
    try:
        down_for = supervised.wait_healthy("kafka", replacing=broker, timeout=120)
    finally:
        try:
            os.kill(broker, signal.SIGKILL)  # when the supervisor did not end it, do not leave it stopped
            raise AssertionError("the stopped broker was still there after its replacement came up")
        except ProcessLookupError:
            pass
    print(f"hung broker replaced in {down_for:.1f} s")
    lines = supervised.lines_of("kafka")
    assert any(line.startswith("health probe failed (3/3)") for line in lines), lines[-20:]
    assert any(line.startswith("STUCK: 3 health probes failed in a row; ending it") for line in lines)
    assert any("ended by the supervisor (3 health probes failed in a row)" in line for line in lines)
    # The platform works again.
    customer = customers[0]
    with Sender([customer], supervised.url("bff"), max_payments=3) as sender:
        sender.wait(lambda: sender.accepted() >= 3, "3 payments accepted", timeout=60)
    await all_completed(supervised, [customer], sender)
    services_never_restarted(supervised)


async def test_postgres_killed_mid_stream_comes_back_and_every_payment_completes(
    supervised: SupervisedPlatform, customers: list[Customer]
) -> None:
    with Sender(customers, supervised.url("bff"), max_payments=PAYMENTS, pause=PAUSE) as sender:
        sender.wait(lambda: sender.accepted() >= 40, "40 payments accepted")
        postmaster = supervised.pid("postgres")
        os.kill(postmaster, signal.SIGKILL)
        at_kill = sender.failures
        down_for = supervised.wait_healthy("postgres", replacing=postmaster, timeout=180)
        assert sender.failures > at_kill, "no request failed while PostgreSQL was down: the kill did not bite"
        up_from = sender.accepted()
        sender.wait(
            lambda: sender.accepted() >= min(up_from + 20, PAYMENTS), "payments accepted after PostgreSQL came back", 90
        )
    assert sender.error is None, repr(sender.error)
    print(f"PostgreSQL back {down_for:.1f} s after SIGKILL of the postmaster")
    await all_completed(supervised, customers, sender)
    services_never_restarted(supervised)
