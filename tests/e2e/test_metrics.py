"""SPEC §9 metrics: every service's `/metrics` after a payment, the saga's outcome counters, consumer lag
per group and partition, and a real Prometheus scraping every service of the running platform."""

from __future__ import annotations

import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from paysaga.contracts.bus import SUBSCRIPTIONS
from paysaga.devstack.catalog import SERVICES
from paysaga.devstack.prometheus import (
    DEFAULT_PROMETHEUS_PORT,
    PrometheusServer,
    prometheus_binary,
    service_targets,
)
from paysaga.devstack.supervisor import die_with_parent
from tests.support.infra import Infra
from tests.support.platform import TEST_PORT_OFFSET, RunningPlatform, port_of
from tests.support.saga import Customer, new_account, register

pytestmark = pytest.mark.e2e

Samples = dict[str, list[tuple[dict[str, str], float]]]

# Consumer group → (service, the topics it reads): the contract's subscriptions (the DWH reads the
# dead-letter topics too).
GROUPS = {sub.group: (service, set(sub.read_topics)) for service, sub in SUBSCRIPTIONS.items()}
OUTBOX_SERVICES = ("customer", "wallet", "payment")
# What each service adds to the HTTP request histogram and process metrics every service has.
OWN_FAMILIES = {
    "payment": {
        "paysaga_payments_finished_total",
        "paysaga_payment_saga_duration_seconds",
        "paysaga_provider_request_duration_seconds",
        "paysaga_grpc_client_request_duration_seconds",
        "paysaga_payments_stuck",
        "paysaga_reconciliation_cases_open",
    },
    "antifraud": {"paysaga_grpc_server_request_duration_seconds", "paysaga_fraud_decisions_total"},
    "notification": {"paysaga_notification_attempts_total"},
    "merchant_callback": {"paysaga_webhook_attempts_total"},
}
CONSUMER_FAMILIES = {
    "paysaga_consumer_records_applied_total",
    "paysaga_consumer_duplicates_skipped_total",
    "paysaga_consumer_records_retried_total",
    "paysaga_consumer_records_dead_lettered_total",
    "paysaga_consumer_lag_records",
}
OUTBOX_FAMILIES = {
    "paysaga_outbox_pending_rows",
    "paysaga_outbox_oldest_pending_age_seconds",
    "paysaga_relay_publish_duration_seconds",
    "paysaga_relay_batch_records",
    "paysaga_relay_records_published_total",
}


def scrape(platform: RunningPlatform, service: str) -> Samples:
    """Every sample of the service's /metrics, by sample name (`_count`, `_bucket`, … included), and
    under "families" the names of its metric families (a counter's with `_total`)."""
    response = httpx.get(platform.url(service) + "/metrics", timeout=5)  # no credentials: none needed
    assert response.status_code == 200, response.text
    samples: Samples = defaultdict(list)
    for family in text_string_to_metric_families(response.text):
        name = family.name + "_total" if family.type == "counter" else family.name
        samples["families"].append(({"name": name}, 0))
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    return samples


def families(samples: Samples) -> set[str]:
    return {labels["name"] for labels, _ in samples["families"]}


def value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for ls, v in samples.get(name, []) if all(ls.get(k) == want for k, want in labels.items()))


def eventually(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(every)


@pytest.fixture(scope="module")
def paid(platform: RunningPlatform) -> Iterator[tuple[Customer, str]]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        customer = register(client, top_up=100_000)
        response = customer.pay(1_500, new_account())
        assert response.status_code == 202, response.text
        payment_id = response.json()["paymentId"]
        assert customer.wait_final(payment_id)["status"] == "COMPLETED"
        customer.payment(payment_id)
        yield customer, payment_id


def test_every_service_serves_its_metric_families_after_a_payment(
    platform: RunningPlatform, paid: tuple[Customer, str]
) -> None:
    _, payment_id = paid
    for entry in SERVICES:
        name = entry.name
        wanted = {"paysaga_http_server_request_duration_seconds", "process_cpu_seconds_total"}
        wanted |= OWN_FAMILIES.get(name, set())
        wanted |= CONSUMER_FAMILIES if any(s == name for s, _ in GROUPS.values()) else set()
        wanted |= OUTBOX_FAMILIES if name in OUTBOX_SERVICES else set()

        def complete(name: str = name, wanted: set[str] = wanted) -> Samples:
            samples = scrape(platform, name)
            missing = wanted - families(samples)
            assert not missing, f"{name} lacks {sorted(missing)}"
            return samples

        samples = eventually(complete)
        if name not in OUTBOX_SERVICES:
            assert not families(samples) & OUTBOX_FAMILIES, f"{name} has no outbox, yet shows its metrics"
        http = samples["paysaga_http_server_request_duration_seconds_count"]
        assert {ls["service"] for ls, _ in http} == {name}
        text = httpx.get(platform.url(name) + "/metrics", timeout=5).text
        assert payment_id not in text and paid[0].user_id not in text  # no ids: only low-cardinality labels

    bff = scrape(platform, "bff")
    routes = {ls["route"] for ls, _ in bff["paysaga_http_server_request_duration_seconds_count"]}
    assert {"/api/v1/payments", "/api/v1/payments/{payment_id}"} <= routes
    assert value(bff, "paysaga_http_server_request_duration_seconds_count", method="POST", status="202") >= 1


def test_a_completed_payment_moves_the_finished_counter_and_the_saga_duration_histogram(
    platform: RunningPlatform,
) -> None:
    finished = {"status": "COMPLETED", "error_code": ""}
    before = scrape(platform, "payment")
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        customer = register(client, top_up=50_000)
        response = customer.pay(2_000, new_account())
        assert response.status_code == 202, response.text
        assert customer.wait_final(response.json()["paymentId"])["status"] == "COMPLETED"

    def moved() -> Samples:
        after = scrape(platform, "payment")
        assert value(after, "paysaga_payments_finished_total", **finished) >= 1 + value(
            before, "paysaga_payments_finished_total", **finished
        )
        duration = "paysaga_payment_saga_duration_seconds_count"
        assert value(after, duration, status="COMPLETED") >= 1 + value(before, duration, status="COMPLETED")
        return after

    after = eventually(moved, timeout=10)
    assert value(after, "paysaga_payment_saga_duration_seconds_sum", status="COMPLETED") > value(
        before, "paysaga_payment_saga_duration_seconds_sum", status="COMPLETED"
    )
    assert value(after, "paysaga_provider_request_duration_seconds_count", operation="submit", outcome="success") >= 1
    assert value(after, "paysaga_grpc_client_request_duration_seconds_count", code="OK") >= 1
    fraud = scrape(platform, "antifraud")
    assert value(fraud, "paysaga_fraud_decisions_total", decision="ALLOW") >= 1
    assert value(fraud, "paysaga_grpc_server_request_duration_seconds_count", code="OK") >= 1


def test_each_consumer_group_reports_its_lag_per_partition_and_catches_up(
    platform: RunningPlatform, paid: tuple[Customer, str]
) -> None:
    for group, (service, topics) in GROUPS.items():

        def caught_up(group: str = group, service: str = service, topics: set[str] = topics) -> bool:
            samples = scrape(platform, service)
            lag = [(ls, v) for ls, v in samples["paysaga_consumer_lag_records"] if ls["group"] == group]
            assert lag, f"{service} reports no lag of group {group}"
            assert {ls["topic"] for ls, _ in lag} == topics
            assert all(v >= 0 for _, v in lag)
            assert value(samples, "paysaga_consumer_records_applied_total", group=group) >= 1
            return sum(v for _, v in lag) == 0  # every record of the payment applied

        eventually(caught_up, timeout=45)


def test_a_prometheus_scrapes_every_service_of_the_platform(
    platform: RunningPlatform, infra: Infra, paid: tuple[Customer, str]
) -> None:
    binary = prometheus_binary()
    assert binary, "prometheus is missing: scripts/system-deps.sh installs Debian's package"
    server = PrometheusServer(
        infra.root / "prometheus",
        DEFAULT_PROMETHEUS_PORT + TEST_PORT_OFFSET,
        service_targets(port_of),
        binary=binary,
    )
    server.write_config()
    log = infra.root / "logs" / "prometheus.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with Path(log).open("ab") as out:
        proc = subprocess.Popen(server.command(), stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    try:
        api = httpx.Client(base_url=server.url, timeout=5)

        def targets_up() -> dict[str, str]:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                response = api.get("/api/v1/targets")
            except httpx.TransportError:
                return {}
            if response.status_code != 200:  # 503 until it has started
                return {}
            active = response.json()["data"]["activeTargets"]
            health = {t["labels"]["job"]: t["health"] for t in active}
            return health if health and all(h == "up" for h in health.values()) else {}

        health = eventually(targets_up, timeout=60)
        assert sorted(health) == sorted(s.name for s in SERVICES)

        def finished_payments() -> list[dict[str, Any]]:
            query = {"query": 'paysaga_payments_finished_total{status="COMPLETED"}'}
            return api.get("/api/v1/query", params=query).json()["data"]["result"]

        result = eventually(finished_payments, timeout=30)
        assert result[0]["metric"]["job"] == "payment"
        assert float(result[0]["value"][1]) >= 1
        rules = api.get("/api/v1/rules").json()["data"]["groups"]
        alerts = {r["name"] for g in rules for r in g["rules"]}
        assert {"PaysagaConsumerLagHigh", "PaysagaOutboxBacklogOld", "PaysagaDeadLetters"} <= alerts
        assert {"PaysagaPaymentsStuck", "PaysagaReconciliationCasesOpen"} <= alerts
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
