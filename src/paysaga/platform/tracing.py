"""W3C trace context across HTTP and Kafka, through OpenTelemetry.

The `traceparent` of the active span is copied into every outbox row, so the events a handler raises continue
its trace, and the trace id goes into every log line. No span exporter is bundled, so spans are not recorded
by default (sampler `always_off`): ids are still made and the context still flows, at a fraction of the CPU.
Whoever adds an exporter sets OTEL_TRACES_SAMPLER (e.g. `parentbased_always_on`) to record them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Sampler
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()


def configure_tracing(service: str) -> None:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        sampler: Sampler | None = None if os.environ.get("OTEL_TRACES_SAMPLER") else ALWAYS_OFF  # None: from env
        trace.set_tracer_provider(TracerProvider(resource=Resource.create({"service.name": service}), sampler=sampler))


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextmanager
def span(name: str, traceparent: str | None = None, **attributes: str | int) -> Iterator[trace.Span]:
    """A span, continuing the trace of `traceparent` when given (an incoming event or request)."""
    parent = _propagator.extract({"traceparent": traceparent}) if traceparent else None
    token = otel_context.attach(parent) if parent is not None else None
    try:
        with trace.get_tracer("paysaga").start_as_current_span(name, attributes=attributes) as s:
            yield s
    finally:
        if token is not None:
            otel_context.detach(token)


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """Make an incoming `traceparent` current when no span is (tracing not configured), so the
    trace still flows into the events and calls this request makes."""
    if not traceparent or trace.get_current_span().get_span_context().is_valid:
        yield
        return
    token = otel_context.attach(_propagator.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        otel_context.detach(token)
