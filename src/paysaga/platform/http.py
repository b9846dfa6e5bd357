"""What every HTTP service has: problem details for every error, /healthz and /readyz, /metrics
(Prometheus), request logs with the trace id, and its OpenAPI document at /openapi.json."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paysaga.platform.db import PoolExhausted
from paysaga.platform.metrics import METRICS_PATH, HttpMetrics, metrics_response
from paysaga.platform.problems import (
    PROBLEM_COMPONENT,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_SCHEMA,
    Problem,
    add_problems,
    server_errors,
)
from paysaga.platform.service_auth import FORBIDDEN, UNAUTHENTICATED, protected_routes
from paysaga.platform.tracing import continued, current_trace_id

log = structlog.get_logger("paysaga.http")

ReadinessCheck = Callable[[], Awaitable[None]]
# Each readiness check gets this long; /readyz answers well within the supervisor's probe timeout
# (5 s), so a slow dependency reads as "failing", never as a hung service.
READINESS_CHECK_SECONDS = 2.0

# The 4xx problems are declared per operation (`problems.problems` and `declare_platform_problems`).
PROBLEM_RESPONSES = server_errors()


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance=request.url.path if request else None),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


class RequestLog:
    """Logs each request (method, path, status, duration, trace id) and returns the trace id in
    `X-Trace-Id`. Plain ASGI: it runs inside FastAPI's own OpenTelemetry server span, which
    continues an incoming `traceparent` (without an SDK configured, it makes that context current
    itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_trace_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if trace_id:
                    message["headers"] = [*message.get("headers", []), (b"x-trace-id", trace_id.encode())]
            await send(message)

        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"traceparent"), None)
        with continued(incoming):
            trace_id = current_trace_id()
            try:
                await self.app(scope, receive, send_with_trace_id)
            finally:
                self._log(scope, status, started, trace_id)

    @staticmethod
    def _log(scope: Scope, status: int, started: float, trace_id: str | None) -> None:
        if scope["path"] in ("/healthz", "/readyz", METRICS_PATH):
            return
        # An answered request is a DEBUG line (one per request on the payment path is CPU and log
        # volume); a refused or failed one stays INFO, so what went wrong is still in the log.
        emit = log.debug if status < 400 else log.info
        ms = round((time.perf_counter() - started) * 1000, 1)
        emit("http.request", method=scope["method"], path=scope["path"], status=status, ms=ms, trace_id=trace_id)


def retry_after_seconds() -> str:
    """A jittered `Retry-After` (1-3 s), so the clients that were shed do not all come back at once."""
    return str(random.randint(1, 3))


def overloaded(detail: str) -> Problem:
    """503: the service sheds this request instead of queueing it; retry after a short while."""
    return Problem(503, "overloaded", "Service overloaded", detail, headers={"Retry-After": retry_after_seconds()})


@dataclass
class HttpLimits:
    """Abuse limits of an HTTP service (SPEC §11). `build_service` sets them from the settings."""

    max_body_bytes: int = 1 << 20
    max_concurrent_requests: int = 256


_NEVER_SHED = ("/healthz", "/readyz", METRICS_PATH)


class _BodyTooLarge(Exception):
    pass


class Guard:
    """Raw ASGI, outside everything that reads a body: refuses a request body over the limit with
    413 (at once on its `Content-Length`; when streamed, as soon as the bytes counted pass it,
    without reading on), and sheds the requests over the in-flight limit with 503 + `Retry-After`
    instead of queueing them without bound. `/healthz`, `/readyz` and `/metrics` are never shed."""

    def __init__(self, app: ASGIApp, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_body_bytes
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None and length.strip().isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send, self._too_large(limit))
            return
        if scope["path"] in _NEVER_SHED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limits.max_concurrent_requests:
            await self._refuse(scope, receive, send, overloaded("Too many requests in flight; retry later."))
            return
        self.in_flight += 1
        try:
            await self._limited(scope, receive, send, limit)
        finally:
            self.in_flight -= 1

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large:
                return  # the app's answer to a truncated body is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not too_large or started:
                raise
        if too_large and not started:
            await self._refuse(scope, receive, send, self._too_large(limit))

    @staticmethod
    def _too_large(limit: int) -> Problem:
        return Problem(413, "body-too-large", "Request body too large", f"The body may have at most {limit} bytes.")

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
        response = JSONResponse(
            problem.body(instance=scope["path"]),
            status_code=problem.status,
            media_type=PROBLEM_MEDIA_TYPE,
            headers=problem.headers,
        )
        await response(scope, receive, send)


def configure_limits(app: FastAPI, *, max_body_bytes: int, max_concurrent_requests: int) -> None:
    """Set the limits of an app made by `create_app` (before it serves)."""
    limits: HttpLimits = app.state.http_limits
    limits.max_body_bytes = max_body_bytes
    limits.max_concurrent_requests = max_concurrent_requests


# FastAPI's native server span per request (`POST /api/v1/payments`, semantic-convention attributes,
# the incoming `traceparent` continued): not for probes and scrapes (every few seconds, no payment in
# them), and no inner spans per request (dependencies, endpoint, serialization: cost, no question answered).
_UNTRACED = ("/healthz", "/readyz", "/metrics")
SERVER_SPANS: TelemetryConfig = {"operation_spans": False, "exclude": lambda scope: scope.get("path") in _UNTRACED}


def declare_platform_problems(document: dict[str, Any], callers: dict[str, frozenset[str]]) -> None:
    """Add to each operation of an OpenAPI document the problems the platform itself answers on it:
    413 and 422 where it takes a body, 422 where it takes parameters, 401/403 where it names its
    callers (`callers`: "METHOD /path" -> who), with the callers as `x-callers` (so that a tool can call
    it as one of them). FastAPI's own 422 (a JSON body it never sends here) is replaced."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "x-problem-types" not in responses.get("422", {"x-problem-types": ()}):
                del responses["422"]  # FastAPI's HTTPValidationError
            if "requestBody" in operation:
                # 400: the body is not JSON at all; 422: it is, but not what the schema says.
                add_problems(responses, (400, "bad-request"), (413, "body-too-large"), (422, "validation-error"))
            elif operation.get("parameters"):
                add_problems(responses, (422, "validation-error"))
            allowed = callers.get(f"{method.upper()} {path}")
            if allowed is not None:
                add_problems(responses, (401, UNAUTHENTICATED), (403, FORBIDDEN))
                operation["x-callers"] = sorted(allowed)
    schemas = document.get("components", {}).get("schemas", {})
    schemas[PROBLEM_COMPONENT] = PROBLEM_SCHEMA
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def allowed_methods(document: dict[str, Any], path: str) -> list[str]:
    """The methods the OpenAPI document gives the path that `path` matches."""
    for template, item in document.get("paths", {}).items():
        pattern, _, _ = compile_path(template)
        if pattern.match(path):
            return sorted(method.upper() for method in item)
    return []


def _document_problems(app: FastAPI) -> None:
    """The app's OpenAPI document lists every problem of every operation, with the problem schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        cached = app.openapi_schema
        document = generate()
        if document is not cached:  # FastAPI made it anew (first call, or routes added since)
            declare_platform_problems(document, protected_routes(app))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    *,
    title: str,
    description: str,
    readiness: dict[str, ReadinessCheck] | None = None,
    version: str = "1.0.0",
    limits: HttpLimits | None = None,
) -> FastAPI:
    app = FastAPI(
        title=title, description=description, version=version, responses=PROBLEM_RESPONSES, telemetry=SERVER_SPANS
    )
    checks = readiness or {}
    app.state.http_limits = limits or HttpLimits()

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(PoolExhausted)
    async def _pool_exhausted(request: Request, exc: PoolExhausted) -> JSONResponse:
        log.warning("http.database_busy", path=request.url.path, error=str(exc))
        return problem_response(overloaded("No database connection came free in time; retry later."), request)

    @app.exception_handler(asyncpg.TransactionRollbackError)
    async def _rolled_back(request: Request, exc: asyncpg.TransactionRollbackError) -> JSONResponse:
        # A deadlock or a serialization failure: PostgreSQL rolled the transaction back (its changes
        # are undone), and the same request again is expected to succeed.
        log.warning("http.transaction_rolled_back", path=request.url.path, error=str(exc), sqlstate=exc.sqlstate)
        detail = "The request's transaction met a concurrent one and was rolled back; retry the request."
        return problem_response(overloaded(detail), request)

    @app.exception_handler(asyncpg.CharacterNotInRepertoireError)
    async def _unstorable_text(request: Request, exc: asyncpg.CharacterNotInRepertoireError) -> JSONResponse:
        # Text with a NUL character, which PostgreSQL cannot store (or compare): the request's fault.
        detail = "The request has a NUL character (U+0000) in a text value."
        return problem_response(Problem(422, "validation-error", "The request is not valid", detail), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"location": list(e["loc"]), "message": e["msg"], "type": e["type"]} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(str(p) for p in e['location'][1:]) or 'body'}: {e['message']}" for e in errors)
        problem = Problem(422, "validation-error", "The request is not valid", detail, errors=jsonable_encoder(errors))
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase
        slug = title.lower().replace(" ", "-")
        problem = Problem(exc.status_code, slug, title, str(exc.detail) if exc.detail != title else None)
        problem.headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            # Starlette names the methods of the first route of the path only (GET and POST of one
            # path are two routes): `Allow` lists them all.
            methods = allowed_methods(app.openapi(), request.url.path)
            if methods:
                problem.headers = {**(problem.headers or {}), "Allow": ", ".join(methods)}
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled_error", path=request.url.path)
        problem = Problem(500, "internal-error", "Internal server error", "The error was logged; retry later.")
        return problem_response(problem, request)

    app.add_middleware(Guard, limits=app.state.http_limits)
    _document_problems(app)
    app.add_middleware(RequestLog)  # outside the guard: its 413 and 503 answers are logged too
    app.add_middleware(HttpMetrics)  # outermost: every request is timed, refused ones too
    # Not authenticated, like the health endpoints: it carries no customer data.
    app.add_api_route(METRICS_PATH, metrics_response, methods=["GET"], include_in_schema=False)

    instance = f"{socket.gethostname()}/{os.getpid()}"

    @app.get("/healthz", tags=["health"], summary="Liveness: the process serves requests")
    async def healthz() -> dict[str, str]:
        """`instance` (host/pid) says which of a service's instances answered."""
        return {"status": "ok", "instance": instance}

    @app.get("/readyz", tags=["health"], summary="Readiness: every dependency answers")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}

        async def run(name: str, check: ReadinessCheck) -> None:
            try:
                await asyncio.wait_for(check(), READINESS_CHECK_SECONDS)
                results[name] = "ok"
            except Exception as exc:
                # The details (hosts, ports, database names) go to the log, not to the caller.
                log.warning("readiness.check_failed", check=name, error=repr(exc)[:300])
                results[name] = "failing"

        await asyncio.gather(*(run(n, c) for n, c in checks.items()))
        ready = all(v == "ok" for v in results.values())
        if ready:
            return JSONResponse({"status": "ready", "checks": results})
        body = Problem(503, "not-ready", "Not ready", "A dependency is failing", checks=results).body("/readyz")
        return JSONResponse(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)

    return app
