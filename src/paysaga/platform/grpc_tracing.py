"""Spans of gRPC calls (unary-unary, grpc.aio): a CLIENT span per call that sends its `traceparent`
in the call's metadata, and a SERVER span per call that continues it. Named after the method
(`paysaga.antifraud.v1.AntiFraud/Check`), with the RPC semantic conventions' attributes.

Installed only while spans are exported (`client_interceptors`/`server_interceptors` return none
otherwise): an interceptor costs a coroutine and a metadata copy per call. The standard health
service is not traced (probes, not payments).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from paysaga.platform.tracing import context_of, exporting, record_failure, traceparent_of, tracer

TRACEPARENT = "traceparent"
_HEALTH = "/grpc.health."
# What a server reports as its own error (the RPC conventions); the others are the caller's.
_SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def _method(full: str | bytes) -> str:
    """`/package.Service/Method` → `package.Service/Method` (the span name and `rpc.method`)."""
    return (full.decode() if isinstance(full, bytes) else full).lstrip("/")


def _rpc(method: str, code: grpc.StatusCode | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {"rpc.system.name": "grpc", "rpc.method": method}
    if code is not None:
        attributes["rpc.response.status_code"] = code.name
    return attributes


class ClientTracing(grpc.aio.UnaryUnaryClientInterceptor):
    """A CLIENT span around each call on the channel, its context in the call's metadata."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self._server: dict[str, Any] = {
            "server.address": host or target,
            **({"server.port": int(port)} if port.isdigit() else {}),
        }

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[grpc.aio.UnaryUnaryCall]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> grpc.aio.UnaryUnaryCall:
        method = _method(client_call_details.method)
        span = tracer().start_span(method, kind=SpanKind.CLIENT, attributes={**_rpc(method), **self._server})
        metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
        if traceparent := traceparent_of(span):
            metadata.add(TRACEPARENT, traceparent)
        details = client_call_details._replace(metadata=metadata)  # a namedtuple
        try:
            call = await continuation(details, request)
            await call  # the answer, or its AioRpcError: the span ends with the call
            span.set_attribute("rpc.response.status_code", grpc.StatusCode.OK.name)
        except grpc.aio.AioRpcError as exc:
            span.set_attributes(_rpc(method, exc.code()))
            span.set_attribute("error.type", exc.code().name)
            span.set_status(StatusCode.ERROR, exc.details() or "")
            raise
        except BaseException as exc:
            record_failure(span, exc)
            raise
        finally:
            span.end()
        return call


class ServerTracing(grpc.aio.ServerInterceptor):
    """A SERVER span around each unary call, continuing the caller's `traceparent`."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        full: str = handler_call_details.method  # type: ignore[attr-defined]
        if handler is None or handler.unary_unary is None or full.startswith(_HEALTH):
            return handler
        metadata = handler_call_details.invocation_metadata or ()  # type: ignore[attr-defined]
        traceparent = next((v for k, v in metadata if k == TRACEPARENT), None)
        behavior = handler.unary_unary
        method = _method(full)

        async def traced(request: Any, context: grpc.aio.ServicerContext) -> Any:
            span = tracer().start_span(method, context_of(traceparent), kind=SpanKind.SERVER, attributes=_rpc(method))
            with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
                try:
                    return await behavior(request, context)
                finally:
                    code = context.code() or grpc.StatusCode.OK  # set by an abort; unset means OK
                    span.set_attribute("rpc.response.status_code", code.name)
                    if code in _SERVER_ERRORS:
                        span.set_attribute("error.type", code.name)
                        span.set_status(StatusCode.ERROR)

        return grpc.unary_unary_rpc_method_handler(
            traced,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def client_interceptors(target: str) -> list[grpc.aio.ClientInterceptor]:
    """For `grpc.aio.insecure_channel(target, interceptors=...)`."""
    return [ClientTracing(target)] if exporting() else []


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """For `grpc.aio.server(interceptors=...)`; first in the list, so it sees every other's outcome."""
    return [ServerTracing()] if exporting() else []
