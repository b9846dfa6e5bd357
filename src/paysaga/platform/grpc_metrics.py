"""Prometheus metrics of gRPC calls, served and made (apart from `metrics`, so that the services
without gRPC do not load it)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from prometheus_client import Histogram

from paysaga.platform.metrics import FAST_BUCKETS, service_name

GRPC_SERVER_REQUEST_DURATION = Histogram(
    "paysaga_grpc_server_request_duration_seconds",
    "Time a served unary gRPC call took, by full method name and status code",
    ["service", "method", "code"],
    buckets=FAST_BUCKETS,
)
GRPC_CLIENT_REQUEST_DURATION = Histogram(
    "paysaga_grpc_client_request_duration_seconds",
    "Time a unary gRPC call made took until its answer, by full method name and status code",
    ["service", "method", "code"],
    buckets=FAST_BUCKETS,
)


class GrpcServerMetrics(grpc.aio.ServerInterceptor):
    """Times every unary call a grpc.aio server serves; the code of an aborted call is the one it
    aborted with (UNKNOWN for an exception that escaped the handler)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # streams (the health Watch) are not timed
        inner = handler.unary_unary
        method: str = handler_call_details.method  # type: ignore[attr-defined]

        async def timed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = "OK"
            try:
                return await inner(request, context)
            except BaseException:
                aborted = context.code()
                code = aborted.name if isinstance(aborted, grpc.StatusCode) else "UNKNOWN"
                raise
            finally:
                observe_server_call(method, code, time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            timed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def observe_server_call(method: str, code: str, seconds: float) -> None:
    GRPC_SERVER_REQUEST_DURATION.labels(service_name(), method, code).observe(seconds)


def observe_client_call(method: str, code: grpc.StatusCode, seconds: float) -> None:
    GRPC_CLIENT_REQUEST_DURATION.labels(service_name(), method, code.name).observe(seconds)
