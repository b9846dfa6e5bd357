"""gRPC spans (platform.grpc_tracing) on a real grpc.aio server and channel in this process, on the
loopback: the client span's context reaches the server in the call's metadata; status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc
from paysaga.platform import tracing
from paysaga.platform.grpc_tracing import client_interceptors, server_interceptors

METHOD = "paysaga.antifraud.v1.AntiFraud/Check"


class Servicer(antifraud_pb2_grpc.AntiFraudServicer):
    async def Check(
        self, request: antifraud_pb2.CheckRequest, context: grpc.aio.ServicerContext
    ) -> antifraud_pb2.CheckResponse:
        if request.payment_id == "unavailable":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "no decision now")
        if request.payment_id == "invalid":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "amount must be positive")
        return antifraud_pb2.CheckResponse(decision=antifraud_pb2.ALLOW, score=0.1)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_process", tracing._Process(provider.get_tracer("test"), exporting=True))
    return exporter


@pytest.fixture
async def stub(spans: InMemorySpanExporter) -> AsyncIterator[antifraud_pb2_grpc.AntiFraudStub]:
    server = grpc.aio.server(interceptors=server_interceptors())
    antifraud_pb2_grpc.add_AntiFraudServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    target = f"127.0.0.1:{port}"
    async with grpc.aio.insecure_channel(target, interceptors=client_interceptors(target)) as channel:
        yield antifraud_pb2_grpc.AntiFraudStub(channel)
    await server.stop(None)


def of_kind(exporter: InMemorySpanExporter, kind: SpanKind) -> ReadableSpan:
    (span,) = [s for s in exporter.get_finished_spans() if s.kind is kind]
    return span


async def test_a_call_is_a_client_span_and_a_server_span_under_it(
    stub: antifraud_pb2_grpc.AntiFraudStub, spans: InMemorySpanExporter
) -> None:
    answer = await stub.Check(antifraud_pb2.CheckRequest(payment_id="p-1"), timeout=5)
    assert answer.decision == antifraud_pb2.ALLOW
    client, server = of_kind(spans, SpanKind.CLIENT), of_kind(spans, SpanKind.SERVER)
    assert client.name == server.name == METHOD
    assert server.context.trace_id == client.context.trace_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    for span in (client, server):
        attributes = dict(span.attributes or {})
        assert attributes["rpc.system.name"] == "grpc" and attributes["rpc.method"] == METHOD
        assert attributes["rpc.response.status_code"] == "OK"
        assert span.status.status_code is StatusCode.UNSET
    client_attributes = dict(client.attributes or {})
    assert client_attributes["server.address"] == "127.0.0.1" and isinstance(client_attributes["server.port"], int)


async def test_an_unavailable_server_fails_both_spans(
    stub: antifraud_pb2_grpc.AntiFraudStub, spans: InMemorySpanExporter
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Check(antifraud_pb2.CheckRequest(payment_id="unavailable"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.UNAVAILABLE  # the caller still sees the call's own error
    for kind in (SpanKind.CLIENT, SpanKind.SERVER):
        span = of_kind(spans, kind)
        assert dict(span.attributes or {})["rpc.response.status_code"] == "UNAVAILABLE"
        assert span.status.status_code is StatusCode.ERROR


async def test_a_caller_error_fails_the_client_span_only(
    stub: antifraud_pb2_grpc.AntiFraudStub, spans: InMemorySpanExporter
) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.Check(antifraud_pb2.CheckRequest(payment_id="invalid"), timeout=5)
    assert of_kind(spans, SpanKind.CLIENT).status.status_code is StatusCode.ERROR
    server = of_kind(spans, SpanKind.SERVER)
    assert dict(server.attributes or {})["rpc.response.status_code"] == "INVALID_ARGUMENT"
    assert server.status.status_code is StatusCode.UNSET  # the caller's mistake, not the server's failure
