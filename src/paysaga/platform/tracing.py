"""W3C trace context across HTTP, gRPC and Kafka, and the spans of each hop, through OpenTelemetry.

One payment is one trace: the BFF's request, its call to Wallet, the relay's send of `PaymentInitiated`,
each consumer's processing of it, Payment's worker (gRPC to Anti-Fraud, HTTP to the provider), the provider's
callback, its event, and so on to Query's projection. The spans are made at the few choke points every hop
passes, named and attributed after OpenTelemetry's semantic conventions:

- HTTP server: FastAPI's own (native) server span, `POST /api/v1/payments` (configured in `platform.http`);
- HTTP client: `outgoing_request` (`platform.http_client`), `POST`;
- Kafka: `start_send`/`end_send` (PRODUCER, `send <topic>`: the outbox relay and Callback's direct publish)
  and `processing` (CONSUMER, `process <topic>`, one per record: its parent is the record's context, with the
  link to it the messaging conventions ask for, so a batch mixing payments still gives one trace each);
- gRPC: the interceptors of `platform.grpc_tracing` (`paysaga.antifraud.v1.AntiFraud/Check`);
- work taken up later from a stored context (Payment's worker): `resumed`.

Export: with `PAYSAGA_ZIPKIN_URL` set, a BatchSpanProcessor (a background thread: the request path only
appends to a queue) posts the spans to Zipkin's own JSON v2 API with `opentelemetry-exporter-zipkin-json`.
Why not OTLP: the Zipkin server on Maven Central (3.6) takes only Zipkin's formats; its OTLP collector is an
experimental module (zipkin-otel) that is not published there. OpenTelemetry deprecated the Zipkin exporters
in its specification (December 2025), but Python still publishes this one, stable, with the 1.45 SDK; it
lives in `tracer_provider` only, so moving to OTLP is a change of that function once Zipkin accepts OTLP.

Without an export URL spans are not recorded (sampler `always_off`) and the hand-made spans are not even
started: ids are still made and the W3C context still flows (into every outbox row, record and call, and the
trace id into every request log line), at a fraction of the CPU.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, Span, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from paysaga.contracts.cloudevents import EventMeta

log = structlog.get_logger("paysaga.tracing")
_propagator = TraceContextTextMapPropagator()


@dataclass
class _Process:
    tracer: trace.Tracer
    exporting: bool = False


_process = _Process(trace.get_tracer("paysaga"))  # a proxy tracer until configure_tracing

ZIPKIN_SPANS_PATH = "/api/v2/spans"


def tracer_provider(service: str, *, zipkin_url: str = "", sample_ratio: float = 1.0) -> TracerProvider:
    """The process's provider: exporting to Zipkin with a parent-based ratio sampler, or recording
    nothing. `OTEL_TRACES_SAMPLER` (and `_ARG`), when set, choose the sampler instead."""
    # Zipkin keeps every resource attribute as a tag of every span: the service's name and instance (and
    # what OTEL_RESOURCE_ATTRIBUTES adds), not the SDK's name and version.
    created = Resource.create({"service.name": service}).attributes
    resource = Resource({k: v for k, v in created.items() if not k.startswith("telemetry.sdk.")})
    sampler_from_env = bool(os.environ.get("OTEL_TRACES_SAMPLER"))  # the SDK reads it when sampler is None
    if not zipkin_url:
        return TracerProvider(resource=resource, sampler=None if sampler_from_env else ALWAYS_OFF)
    from opentelemetry.exporter.zipkin.json import ZipkinExporter  # only a process that exports loads it

    sampler = None if sampler_from_env else ParentBased(TraceIdRatioBased(sample_ratio))
    provider = TracerProvider(resource=resource, sampler=sampler)
    exporter = ZipkinExporter(endpoint=zipkin_url.rstrip("/") + ZIPKIN_SPANS_PATH, timeout=5)
    provider.add_span_processor(BatchSpanProcessor(_Quiet(exporter)))  # OTEL_BSP_* tune it (queue, delay, batch)
    return provider


class _Quiet(SpanExporter):
    """Zipkin unreachable: a warning a minute, not a traceback per batch (the SDK's), and the batch is
    dropped; the services go on."""

    def __init__(self, exporter: SpanExporter, quiet_seconds: float = 60.0) -> None:
        self.exporter = exporter
        self._quiet_seconds = quiet_seconds
        self._quiet_until = 0.0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            return self.exporter.export(spans)
        except OSError as exc:  # requests' connection errors and timeouts are OSErrors
            if (now := time.monotonic()) >= self._quiet_until:
                self._quiet_until = now + self._quiet_seconds
                log.warning("tracing.export_failed", spans=len(spans), error=repr(exc)[:300])
            return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def configure_tracing(service: str, *, zipkin_url: str = "", sample_ratio: float = 1.0) -> None:
    """Once per process (the first call wins). The provider flushes its spans at exit."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = tracer_provider(service, zipkin_url=zipkin_url, sample_ratio=sample_ratio)
    trace.set_tracer_provider(provider)
    _process.tracer = provider.get_tracer("paysaga")
    _process.exporting = bool(zipkin_url)


def exporting() -> bool:
    """Spans go somewhere: the hand-made spans are worth starting."""
    return _process.exporting


def tracer() -> trace.Tracer:
    return _process.tracer


# --- context -------------------------------------------------------------------------------------


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`) names."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def context_of(traceparent: str | None) -> Context:
    """The context a `traceparent` names; an empty one (a new trace) for none or a garbled one,
    never the ambient context."""
    return _propagator.extract({"traceparent": traceparent}) if traceparent else Context()


def traceparent_of(span: Span) -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent")


def record_failure(span: Span, exc: BaseException) -> None:
    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_status(StatusCode.ERROR, str(exc)[:300])


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """Make an incoming `traceparent` current when no span is (nothing recorded here), so the trace
    still flows into the events and calls this work makes."""
    if not traceparent or trace.get_current_span().get_span_context().is_valid:
        yield
        return
    token = otel_context.attach(_propagator.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def _current(span: Span) -> Iterator[None]:
    """`span` current while the block runs; ended after it, failed by its exception."""
    with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
        try:
            yield
        except BaseException as exc:
            record_failure(span, exc)
            raise


@contextmanager
def resumed(name: str, traceparent: str | None, **attributes: str | int) -> Iterator[None]:
    """Work taken up later from a stored trace context (a leased job): an INTERNAL span in that trace
    (not exporting: that context made current, so the calls and events it makes still carry it)."""
    if not _process.exporting:
        with continued(traceparent):
            yield
        return
    with _current(_process.tracer.start_span(name, context_of(traceparent), attributes=attributes)):
        yield


# --- HTTP client ---------------------------------------------------------------------------------


@contextmanager
def outgoing_request(method: str, url: str, headers: dict[str, str]) -> Iterator[Span | None]:
    """The CLIENT span of one outgoing HTTP request; its `traceparent` goes into `headers`. A
    `traceparent` already there becomes the span's parent (the provider simulator calls back in the
    context of the request it was given); otherwise the current span is. Not exporting: only the
    context is passed on (the given one, else the current one)."""
    given = headers.pop("traceparent", None)
    if not _process.exporting:
        if traceparent := given or current_traceparent():
            headers["traceparent"] = traceparent
        yield None
        return
    span = _process.tracer.start_span(
        method,
        context_of(given) if given else None,
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": method},
    )
    if span.is_recording():
        parts = urlsplit(url)
        span.set_attributes({"url.full": url, "server.address": parts.hostname or "", "server.port": parts.port or 80})
    _propagator.inject(headers, context=trace.set_span_in_context(span))
    try:
        yield span
    except BaseException as exc:
        record_failure(span, exc)
        raise
    finally:
        span.end()


def answered(span: Span | None, status_code: int) -> None:
    """The response's status on a client span (4xx and 5xx are errors of a client span)."""
    if span is None or not span.is_recording():
        return
    span.set_attribute("http.response.status_code", status_code)
    if status_code >= 400:
        span.set_attribute("error.type", str(status_code))
        span.set_status(StatusCode.ERROR)


# --- Kafka ---------------------------------------------------------------------------------------


def _messaging(operation: str, topic: str, meta_id: str, meta_type: str, key: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": topic,
        "messaging.message.id": meta_id,
        "cloudevents.event_type": meta_type,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = key
    return attributes


def start_send(
    topic: str, *, key: str | None, event_id: str, event_type: str, traceparent: str | None
) -> tuple[Span | None, str | None]:
    """Start the PRODUCER span of one record, a child of the context its event was raised in
    (`traceparent`, as the outbox stored it); the span and the `traceparent` the record must carry:
    the span's own, so each consumer's processing continues from this send. Not exporting, or the
    trace not sampled: no span, and the record keeps `traceparent`."""
    if not _process.exporting:
        return None, traceparent
    span = _process.tracer.start_span(
        f"send {topic}",
        context_of(traceparent),
        kind=SpanKind.PRODUCER,
        attributes=_messaging("send", topic, event_id, event_type, key),
    )
    if not span.is_recording():
        return None, traceparent
    return span, traceparent_of(span)


def end_send(span: Span | None, result: object) -> None:
    """End a send span with the broker's answer: the acknowledged record (partition, offset) or the
    exception that refused it."""
    if span is None:
        return
    if isinstance(result, BaseException):
        record_failure(span, result)
    else:
        partition, offset = getattr(result, "partition", None), getattr(result, "offset", None)
        if callable(partition) and callable(offset):
            span.set_attribute("messaging.destination.partition.id", str(partition()))
            span.set_attribute("messaging.kafka.offset", offset())
    span.end()


@contextmanager
def processing(
    meta: EventMeta, *, topic: str, partition: int, offset: int, key: str | None, group: str
) -> Iterator[None]:
    """The CONSUMER span of one record's processing by `group`: its parent is the context the record
    carries (the send span), with a link to it as well (the messaging conventions' way to tie a
    processing span to the message's creation, parent or not). Not exporting: the record's context is
    made current, so what the handler publishes continues its trace."""
    if not _process.exporting:
        with continued(meta.traceparent):
            yield
        return
    parent = context_of(meta.traceparent)
    creation = trace.get_current_span(parent).get_span_context()
    attributes = _messaging("process", topic, meta.id, meta.type, key)
    attributes.update(
        {
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.offset": offset,
        }
    )
    span = _process.tracer.start_span(
        f"process {topic}",
        parent,
        kind=SpanKind.CONSUMER,
        links=[Link(creation)] if creation.is_valid else None,
        attributes=attributes,
    )
    with _current(span):
        yield
