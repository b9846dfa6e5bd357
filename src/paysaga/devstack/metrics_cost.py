"""`python -m paysaga.devstack.metrics_cost`: what the Prometheus instrumentation costs, in CPU.

Times each hook the way the platform calls it (in this process, no network), then adds them up per payment
from how often a payment calls each one, and prints what the periodic work (a scrape, a statistics callback)
costs. `make bench` measures the platform as a whole; this isolates the metrics' part of it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import grpc
import orjson
from prometheus_client import REGISTRY, generate_latest
from starlette.types import Message

from paysaga.platform.grpc_metrics import observe_client_call, observe_server_call
from paysaga.platform.http import create_app
from paysaga.platform.logging import configure_logging
from paysaga.platform.metrics import ConsumerLag, ConsumerMetrics, HttpMetrics, configure_metrics, outbox_metrics
from paysaga.services.payment import metrics as payment_metrics

# How often one payment calls each hook (README, "Performance"): 4 HTTP requests served (BFF, Wallet,
# provider, Callback), 1 gRPC call on each side, 16 deliveries into 8 consumer groups, 2 relay passes
# (PaymentInitiated, the final event), 1 provider call, 1 finished payment, 2 notifications.
PER_PAYMENT = {"http": 4, "grpc": 2, "record": 16, "relay": 2, "payment_domain": 6}


def per_call_us(fn: Callable[[], object], n: int = 200_000) -> float:
    for _ in range(1000):
        fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n * 1e6


def http_request_us(with_metrics: bool, n: int = 20_000) -> float:
    """One GET through the app's whole ASGI stack (no server, no socket), with or without HttpMetrics."""
    app = create_app(title="bench", description="bench")
    if not with_metrics:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HttpMetrics]

    @app.get("/v1/users/{user_id}/wallet")
    async def wallet(user_id: str) -> dict[str, str]:
        return {"userId": user_id}

    user = str(uuid.uuid4())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/v1/users/{user}/wallet",
        "raw_path": f"/v1/users/{user}/wallet".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    async def run() -> float:
        for _ in range(500):
            await app(dict(scope), receive, send)
        started = time.process_time()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return (time.process_time() - started) / n * 1e6

    return asyncio.run(run())


def statistics_json(partitions: int = 12) -> str:
    """A consumer's statistics document of the platform's size (2 topics of 6 partitions, 1 broker)."""
    window = {k: 0 for k in ("min", "max", "avg", "sum", "stddev", "p50", "p75", "p90", "p95", "p99", "p99_99")}
    counters = ("leader", "msgq_cnt", "msgq_bytes", "xmit_msgq_cnt", "xmit_msgq_bytes", "fetchq_cnt", "fetchq_size",
                "query_offset", "eof_offset", "txmsgs", "txbytes", "rxmsgs", "rxbytes", "msgs", "rx_ver_drops",
                "msgs_inflight", "next_ack_seq", "next_err_seq", "acked_msgid")  # fmt: skip
    fields = dict.fromkeys(counters, 0)
    topics = {}
    for topic in ("payment-events", "callback-events"):
        parts = {
            str(p): {
                "partition": p,
                "desired": True,
                "unknown": False,
                "fetch_state": "active",
                "next_offset": 1000,
                "app_offset": 1000,
                "stored_offset": 1000,
                "committed_offset": 990,
                "lo_offset": 0,
                "hi_offset": 1003,
                "ls_offset": 1003,
                "consumer_lag": 3,
                "consumer_lag_stored": 3,
                **fields,
            }
            for p in range(-1, partitions // 2)
        }
        topics[topic] = {
            "topic": topic,
            "metadata_age": 1000,
            "batchsize": window,
            "batchcnt": window,
            "partitions": parts,
        }
    broker = {"name": "127.0.0.1:9092/1", "nodeid": 1, "state": "UP", "rtt": window, "int_latency": window}
    return orjson.dumps({"name": "c", "type": "consumer", "brokers": {"b": broker}, "topics": topics}).decode()


def main() -> None:
    configure_logging("bench", level="WARNING", fmt="console")  # the request log would dwarf the rest
    configure_metrics("bench")
    consumer = ConsumerMetrics("bench-group")
    relay = outbox_metrics()
    lag = ConsumerLag("bench-group")
    stats = statistics_json()

    # Alternated and the best of three each: the VM's noise is larger than the difference.
    runs = [(http_request_us(True), http_request_us(False)) for _ in range(3)]
    http_with, http_without = min(w for w, _ in runs), min(wo for _, wo in runs)
    http = http_with - http_without

    def one_record() -> None:
        consumer.handler_took("PaymentCompleted", 0.001)
        consumer.applied.inc()

    record = per_call_us(one_record)
    relay_pass = per_call_us(lambda: relay.relay_published(1, 0.002))
    check = "/paysaga.antifraud.v1.AntiFraud/Check"
    grpc_server = per_call_us(lambda: observe_server_call(check, "OK", 0.002))
    grpc_client = per_call_us(lambda: observe_client_call(check, grpc.StatusCode.OK, 0.002))
    finished = per_call_us(lambda: payment_metrics.SAGA_DURATION.labels("COMPLETED").observe(0.2), n=100_000)
    counter = per_call_us(lambda: payment_metrics.PAYMENTS_FINISHED.labels("COMPLETED", "").inc(), n=100_000)
    domain = finished + counter  # each domain hook is at most a labelled observe or inc
    statistics = per_call_us(lambda: lag.on_statistics(stats), n=2_000)
    scrape = per_call_us(lambda: generate_latest(REGISTRY), n=500)

    total = (
        PER_PAYMENT["http"] * http
        + grpc_server
        + grpc_client
        + PER_PAYMENT["record"] * record
        + PER_PAYMENT["relay"] * relay_pass
        + PER_PAYMENT["payment_domain"] * domain / 2
    )
    print(f"HTTP request through the whole app: {http_with:.1f} µs with HttpMetrics, {http_without:.1f} without")
    print(f"  → HttpMetrics per request:          {http:6.1f} µs")
    print(f"consumer record (handler timing + applied): {record:6.1f} µs")
    print(f"relay pass (duration, size, count):       {relay_pass:6.1f} µs")
    print(f"gRPC call observed, server / client:      {grpc_server:6.1f} / {grpc_client:.1f} µs")
    print(f"domain hook (labelled observe / inc):     {finished:6.1f} / {counter:.1f} µs")
    print(f"per payment ({PER_PAYMENT}): {total:6.1f} µs of CPU")
    print(f"periodic: a statistics callback {statistics:.0f} µs (per consumer, every 5 s);")
    print(f"          a scrape of this process's /metrics {scrape:.0f} µs (every 5 s)")


if __name__ == "__main__":
    main()
