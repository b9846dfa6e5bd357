"""Prometheus metrics of a service process, served at `/metrics` (prometheus-client's default registry).

Names follow Prometheus' conventions: `paysaga_` prefix, base units in the name (`_seconds`), `_total` for
counters. Labels are low-cardinality only: a route is its template (`/v1/users/{user_id}/wallet`), never the
path; no payment, user or event id is ever a label. What runs per request or record is a dict lookup and an
`observe`/`inc` on a cached child (a few microseconds); what needs a query or parsing is periodic: consumer lag
from librdkafka's statistics callback, outbox backlog from a query every `PAYSAGA_METRICS_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any

import orjson
import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paysaga.platform.db import Database
from paysaga.platform.outbox import pending_backlog
from paysaga.platform.periodic import Periodic

log = structlog.get_logger("paysaga.metrics")

METRICS_PATH = "/metrics"
UNMATCHED_ROUTE = "unmatched"  # a request no route took (404, or refused before routing: 413, 503)

# Work measured in milliseconds to seconds: handlers, gRPC calls, relay passes.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_service = "unknown"

# A `_created` sample beside every counter and histogram would double what is scraped, for nothing the
# rules use.
disable_created_metrics()


def configure_metrics(service: str) -> None:
    """The `service` label of this process's request metrics (`init_process` sets it)."""
    global _service  # noqa: PLW0603 - one service per process, set once at start
    _service = service


def service_name() -> str:
    return _service


def metrics_response(_: Request) -> Response:
    """`GET /metrics`: the process's metrics in Prometheus' text format (no customer data, no auth)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


# --- HTTP ---------------------------------------------------------------------------------------

HTTP_REQUEST_DURATION = Histogram(
    "paysaga_http_server_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template and status",
    ["service", "method", "route", "status"],
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    """Raw ASGI, outermost: times every request (refused ones too) into HTTP_REQUEST_DURATION. The route
    label is the template of the API route that took it (FastAPI leaves it in `scope["route"]`); FastAPI's
    own pages (`/docs`, `/openapi.json`) by their path; anything else is `unmatched`, never its path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, str, int], Any] = {}
        self._plain_paths: frozenset[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception escaping the app becomes a 500 further out

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or self._plain_route(scope)
        key = (scope["method"], route, status)
        child = self._children.get(key)
        if child is None:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            child = self._children[key] = HTTP_REQUEST_DURATION.labels(_service, method, route, str(status))
        child.observe(seconds)

    def _plain_route(self, scope: Scope) -> str:
        if self._plain_paths is None:
            routes = getattr(scope.get("app"), "routes", ())
            self._plain_paths = frozenset(r.path for r in routes if isinstance(r, Route) and "{" not in r.path)
        return scope["path"] if scope["path"] in self._plain_paths else UNMATCHED_ROUTE


# --- consumers ----------------------------------------------------------------------------------

CONSUMER_RECORDS_APPLIED = Counter(
    "paysaga_consumer_records_applied_total", "Records whose handler ran and committed, per consumer group", ["group"]
)
CONSUMER_DUPLICATES_SKIPPED = Counter(
    "paysaga_consumer_duplicates_skipped_total",
    "Records skipped because the inbox had already applied their event id",
    ["group"],
)
CONSUMER_RECORDS_RETRIED = Counter(
    "paysaga_consumer_records_retried_total",
    "Handler runs of a record tried again: after a failure of the handler (`error`) or an outage (`outage`)",
    ["group", "cause"],
)
CONSUMER_RECORDS_DEAD_LETTERED = Counter(
    "paysaga_consumer_records_dead_lettered_total",
    "Records sent to the dead-letter topic, by reason (invalid-envelope, schema-invalid, invalid-key, handler-failed)",
    ["group", "reason"],
)
CONSUMER_BATCH_ROLLBACKS = Counter(
    "paysaga_consumer_batch_rollbacks_total",
    "Polled batches rolled back and redone one record per transaction",
    ["group"],
)
CONSUMER_HANDLER_DURATION = Histogram(
    "paysaga_consumer_handler_duration_seconds",
    "Time a handler took for one record (inside its transaction), by event type",
    ["group", "event_type"],
    buckets=FAST_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "paysaga_consumer_lag_records",
    "Records of an assigned partition not yet applied by the group: high watermark - next offset to apply",
    ["group", "topic", "partition"],
)


DEAD_LETTER_REASONS = ("invalid-envelope", "schema-invalid", "invalid-key", "handler-failed")


class ConsumerMetrics:
    """The children of one consumer group, bound once. The dead-letter counters start at 0, so that
    `increase()` sees the first dead letter (a series born at 1 shows no increase)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.applied = CONSUMER_RECORDS_APPLIED.labels(group)
        self.duplicates = CONSUMER_DUPLICATES_SKIPPED.labels(group)
        self.retried_error = CONSUMER_RECORDS_RETRIED.labels(group, "error")
        self.retried_outage = CONSUMER_RECORDS_RETRIED.labels(group, "outage")
        self.rollbacks = CONSUMER_BATCH_ROLLBACKS.labels(group)
        self._handler: dict[str, Any] = {}
        for reason in DEAD_LETTER_REASONS:
            CONSUMER_RECORDS_DEAD_LETTERED.labels(group, reason)

    def handler_took(self, event_type: str, seconds: float) -> None:
        child = self._handler.get(event_type)
        if child is None:
            child = self._handler[event_type] = CONSUMER_HANDLER_DURATION.labels(self.group, event_type)
        child.observe(seconds)

    def dead_lettered(self, reason: str) -> None:
        CONSUMER_RECORDS_DEAD_LETTERED.labels(self.group, reason).inc()


STATISTICS_INTERVAL_MS = 5000
_INVALID = -1001  # librdkafka's "no offset"


def _next_to_apply(p: dict[str, Any]) -> int | None:
    """Where the group stands in a partition, from librdkafka's statistics: the offset it stores after
    applying a record (committed from there), else the committed one, else the next to fetch, else the
    partition's start (a group that has applied nothing yet)."""
    applied = max(p.get("stored_offset", _INVALID), p.get("committed_offset", _INVALID))
    for offset in (applied, p.get("next_offset", _INVALID), p.get("lo_offset", _INVALID)):
        if offset >= 0:
            return int(offset)
    return None


class ConsumerLag:
    """Per-partition lag of one group, from librdkafka's statistics (`statistics.interval.ms`): the
    callback parses one small JSON document every 5 s; nothing is done per record. Only the partitions
    this member fetches are reported; a partition it no longer has is removed."""

    def __init__(self, group: str) -> None:
        self.group = group
        self._reported: set[tuple[str, str]] = set()

    def config(self) -> dict[str, Any]:
        """Consumer settings for a plain `Consumer` (the callback runs in its polling thread)."""
        return {"statistics.interval.ms": STATISTICS_INTERVAL_MS, "stats_cb": self.on_statistics}

    def async_config(self) -> dict[str, Any]:
        """Consumer settings for an `AIOConsumer` (it runs the callback on the event loop, as a coroutine)."""

        async def on_statistics(stats: str) -> None:
            self.on_statistics(stats)

        return {"statistics.interval.ms": STATISTICS_INTERVAL_MS, "stats_cb": on_statistics}

    def on_statistics(self, stats: str) -> None:
        try:
            lags = self.lags(orjson.loads(stats))
        except (orjson.JSONDecodeError, TypeError, AttributeError, ValueError) as exc:
            log.warning("metrics.statistics_unreadable", group=self.group, error=repr(exc))
            return
        for (topic, partition), lag in lags.items():
            CONSUMER_LAG.labels(self.group, topic, partition).set(lag)
        for gone in self._reported - lags.keys():
            self._remove(gone)
        self._reported = set(lags)

    @staticmethod
    def lags(stats: dict[str, Any]) -> dict[tuple[str, str], int]:
        """(topic, partition) → lag of every partition being fetched whose high watermark is known."""
        lags: dict[tuple[str, str], int] = {}
        for topic, t in (stats.get("topics") or {}).items():
            for p in (t.get("partitions") or {}).values():
                if p.get("partition", -1) < 0 or p.get("fetch_state", "none") in ("none", "stopping", "stopped"):
                    continue
                high = p.get("hi_offset", _INVALID)
                position = _next_to_apply(p)
                if high < 0 or position is None:
                    continue
                lags[(topic, str(p["partition"]))] = max(0, high - position)
        return lags

    def clear(self) -> None:
        """The member left the group: its partitions are someone else's now."""
        for gone in self._reported:
            self._remove(gone)
        self._reported = set()

    def _remove(self, key: tuple[str, str]) -> None:
        with contextlib.suppress(KeyError):
            CONSUMER_LAG.remove(self.group, *key)


# --- outbox and relay ---------------------------------------------------------------------------


class OutboxMetrics:
    """The outbox and relay metrics, registered only in a process that has an outbox relay (`outbox_metrics()`):
    a service without one shows none, rather than a backlog of 0 it cannot have."""

    def __init__(self) -> None:
        self.pending_rows = Gauge("paysaga_outbox_pending_rows", "Outbox rows not yet published")
        self.oldest_pending_age = Gauge(
            "paysaga_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not yet published (0: none pending)",
        )
        self.publish_duration = Histogram(
            "paysaga_relay_publish_duration_seconds",
            "One relay pass that published rows: lock lanes, read, send, wait for the acks, mark published",
            buckets=FAST_BUCKETS,
        )
        self.batch_records = Histogram(
            "paysaga_relay_batch_records",
            "Rows published by one relay pass",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
        )
        self.published = Counter("paysaga_relay_records_published_total", "Outbox rows published and acknowledged")
        self.errors = Counter("paysaga_relay_errors_total", "Relay passes that failed (database or broker away)")

    def relay_published(self, rows: int, seconds: float) -> None:
        self.publish_duration.observe(seconds)
        self.batch_records.observe(rows)
        self.published.inc(rows)


@functools.cache
def outbox_metrics() -> OutboxMetrics:
    return OutboxMetrics()


def outbox_gauges(db: Database, *, every_seconds: float) -> Periodic:
    """The worker that reads the outbox backlog (rows, oldest age) every `every_seconds`: one query on
    the partial index of pending rows."""
    metrics = outbox_metrics()

    async def refresh() -> None:
        async with db.connection() as conn:
            rows, oldest_age = await pending_backlog(conn)
        metrics.pending_rows.set(rows)
        metrics.oldest_pending_age.set(oldest_age)

    return Periodic("outbox-metrics", refresh, every_seconds=every_seconds)


# Payment's cases (the provider contradicts a final payment) and the Ops service's (the reconciliation
# job found the books disagreeing): one family, each service's own kinds, one alert.
RECONCILIATION_CASES_OPEN = Gauge(
    "paysaga_reconciliation_cases_open", "Reconciliation cases not yet resolved, by kind", ["kind"]
)
