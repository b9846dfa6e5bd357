"""The spans of each hop (platform.tracing), recorded in memory: parents, the context each hop passes
on, the semantic-convention attributes; and that nothing is started while spans are not exported."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from structlog.testing import capture_logs

from paysaga.contracts.cloudevents import EventMeta
from paysaga.platform import tracing

SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOT_SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
TRACE_ID = int("0af7651916cd43dd8448eb211c80319c", 16)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Tracing as when exporting (a parent-based always-on sampler), into memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_process", tracing._Process(provider.get_tracer("test"), exporting=True))
    return exporter


@pytest.fixture
def not_exporting(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_process", tracing._Process(provider.get_tracer("test"), exporting=False))
    return exporter


def meta(traceparent: str | None) -> EventMeta:
    return EventMeta(
        id="e-1", type="PaymentInitiated", source="/paysaga/wallet", time=datetime.now(UTC), traceparent=traceparent
    )


def span_id(traceparent: str) -> int:
    return int(traceparent.split("-")[2], 16)


def finished(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    (span,) = [s for s in exporter.get_finished_spans() if s.name == name]
    return span


def test_the_provider_exports_to_zipkin_with_a_parent_based_ratio_or_records_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    exporting = tracing.tracer_provider("wallet", zipkin_url="http://127.0.0.1:9411", sample_ratio=0.25)
    # Each is a tag on every span in Zipkin: the service and its instance (several may run), no more.
    assert set(exporting.resource.attributes) == {"service.name", "service.instance.id"}
    assert exporting.resource.attributes["service.name"] == "wallet"
    assert exporting.sampler.get_description() == (
        "ParentBased{root:TraceIdRatioBased{0.25},remoteParentSampled:AlwaysOnSampler,"
        "remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,"
        "localParentNotSampled:AlwaysOffSampler}"
    )
    processors = exporting._active_span_processor._span_processors
    (batch,) = processors
    exporter = batch._batch_processor._exporter.exporter  # type: ignore[attr-defined]
    assert exporter.endpoint == "http://127.0.0.1:9411/api/v2/spans"
    silent = tracing.tracer_provider("wallet")
    assert silent.sampler.get_description() == "AlwaysOffSampler"
    assert silent._active_span_processor._span_processors == ()


def test_a_send_span_continues_the_stored_context_and_the_record_carries_its_own(
    spans: InMemorySpanExporter,
) -> None:
    span, carried = tracing.start_send(
        "payment-events", key="p-1", event_id="e-1", event_type="PaymentInitiated", traceparent=SAMPLED
    )
    assert span is not None and carried is not None and carried != SAMPLED
    tracing.end_send(span, RuntimeError("broker down"))
    sent = finished(spans, "send payment-events")
    assert sent.kind is SpanKind.PRODUCER
    assert sent.context.trace_id == TRACE_ID and sent.parent is not None and sent.parent.span_id == span_id(SAMPLED)
    assert span_id(carried) == sent.context.span_id
    assert dict(sent.attributes or {}) == {
        "messaging.system": "kafka",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": "payment-events",
        "messaging.message.id": "e-1",
        "cloudevents.event_type": "PaymentInitiated",
        "messaging.kafka.message.key": "p-1",
        "error.type": "RuntimeError",
    }
    assert sent.status.status_code is StatusCode.ERROR


def test_a_record_of_a_trace_not_sampled_keeps_its_context_and_makes_no_span(spans: InMemorySpanExporter) -> None:
    span, carried = tracing.start_send(
        "payment-events", key=None, event_id="e", event_type="T", traceparent=NOT_SAMPLED
    )
    assert (span, carried) == (None, NOT_SAMPLED)
    assert spans.get_finished_spans() == ()


def test_processing_is_a_child_of_the_record_context_linked_to_it_and_current_for_the_handler(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.processing(meta(SAMPLED), topic="payment-events", partition=3, offset=42, key="p-1", group="query"):
        inside = tracing.current_traceparent()
    done = finished(spans, "process payment-events")
    assert done.kind is SpanKind.CONSUMER
    assert done.parent is not None and done.parent.span_id == span_id(SAMPLED)
    assert [link.context.span_id for link in done.links] == [span_id(SAMPLED)]
    assert inside is not None and span_id(inside) == done.context.span_id  # what the handler publishes
    attributes = dict(done.attributes or {})
    assert attributes["messaging.consumer.group.name"] == "query"
    assert attributes["messaging.destination.partition.id"] == "3"
    assert attributes["messaging.kafka.offset"] == 42
    assert attributes["messaging.operation.type"] == "process"


def test_a_failing_handler_fails_its_processing_span(spans: InMemorySpanExporter) -> None:
    with (
        pytest.raises(ValueError, match="bad"),
        tracing.processing(meta(SAMPLED), topic="t", partition=0, offset=0, key=None, group="g"),
    ):
        raise ValueError("bad")
    assert finished(spans, "process t").status.status_code is StatusCode.ERROR


def test_a_record_without_context_starts_a_trace_of_its_own(spans: InMemorySpanExporter) -> None:
    with tracing.processing(meta(None), topic="t", partition=0, offset=0, key=None, group="g"):
        pass
    done = finished(spans, "process t")
    assert done.parent is None and done.links == ()


def test_an_outgoing_request_is_a_client_span_whose_context_travels_in_the_headers(
    spans: InMemorySpanExporter,
) -> None:
    headers: dict[str, str] = {}
    with (
        trace.use_span(tracing.tracer().start_span("request"), end_on_exit=True) as outer,
        tracing.outgoing_request("POST", "http://127.0.0.1:8002/v1/reservations", headers) as span,
    ):
        tracing.answered(span, 422)
    client = finished(spans, "POST")
    assert client.kind is SpanKind.CLIENT
    assert client.parent is not None and client.parent.span_id == outer.get_span_context().span_id
    assert span_id(headers["traceparent"]) == client.context.span_id
    attributes = dict(client.attributes or {})
    assert attributes["url.full"] == "http://127.0.0.1:8002/v1/reservations"
    assert (attributes["server.address"], attributes["server.port"]) == ("127.0.0.1", 8002)
    assert attributes["http.response.status_code"] == 422
    assert client.status.status_code is StatusCode.ERROR  # 4xx fails a client span


def test_a_traceparent_given_to_an_outgoing_request_is_its_parent(spans: InMemorySpanExporter) -> None:
    """The provider simulator calls back in the context of the payout request it was given."""
    headers = {"traceparent": SAMPLED}
    with tracing.outgoing_request("POST", "http://127.0.0.1:8004/v1/provider/callbacks", headers):
        pass
    client = finished(spans, "POST")
    assert client.parent is not None and client.parent.span_id == span_id(SAMPLED)
    assert span_id(headers["traceparent"]) == client.context.span_id


def test_resumed_work_is_a_span_in_the_stored_trace(spans: InMemorySpanExporter) -> None:
    with tracing.resumed("advance payment", SAMPLED, **{"payment.status": "RECEIVED"}):
        inside = tracing.current_traceparent()
    step = finished(spans, "advance payment")
    assert step.kind is SpanKind.INTERNAL and step.parent is not None and step.parent.span_id == span_id(SAMPLED)
    assert inside is not None and span_id(inside) == step.context.span_id


def test_without_export_no_span_is_started_and_the_context_still_flows(not_exporting: InMemorySpanExporter) -> None:
    assert tracing.start_send("t", key=None, event_id="e", event_type="T", traceparent=SAMPLED) == (None, SAMPLED)
    with tracing.processing(meta(SAMPLED), topic="t", partition=0, offset=0, key=None, group="g"):
        assert tracing.current_traceparent() == SAMPLED
        headers: dict[str, str] = {}
        with tracing.outgoing_request("GET", "http://127.0.0.1:8005/v1/payments", headers) as span:
            assert span is None
        assert headers == {"traceparent": SAMPLED}
    with tracing.resumed("advance payment", SAMPLED):
        assert tracing.current_traceparent() == SAMPLED
    given = {"traceparent": NOT_SAMPLED}
    with tracing.outgoing_request("POST", "http://127.0.0.1:8004/", given):
        pass
    assert given == {"traceparent": NOT_SAMPLED}
    assert not_exporting.get_finished_spans() == ()


def test_an_unreachable_zipkin_costs_a_warning_a_minute_not_a_traceback_a_batch() -> None:
    class Unreachable(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            raise ConnectionRefusedError(111, "Connection refused")

    quiet = tracing._Quiet(Unreachable())
    with capture_logs() as logs:
        assert quiet.export([]) is SpanExportResult.FAILURE
        assert quiet.export([]) is SpanExportResult.FAILURE
    assert [entry["event"] for entry in logs] == ["tracing.export_failed"]
