"""The gRPC side of Anti-Fraud: the `AntiFraud` servicer, the standard health service, and the
grpc.aio server that runs them next to the HTTP app in the same event loop.

Only Payment may call Check (its identity token in the `authorization` metadata); health is open.
Status codes follow the contract in `antifraud.proto`: UNAVAILABLE and DEADLINE_EXCEEDED mean no decision now
(retry), INVALID_ARGUMENT and FAILED_PRECONDITION a caller's bug, INTERNAL ours (logged). A Check takes a few
milliseconds; the server never works longer than `check_timeout_seconds` nor past the caller's deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import NoReturn

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from paysaga.contracts.identities import PAYMENT
from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc
from paysaga.platform.consumer import is_outage
from paysaga.platform.db import Database
from paysaga.platform.grpc_metrics import GrpcServerMetrics
from paysaga.platform.grpc_tracing import server_interceptors
from paysaga.platform.identity import IdentityError, ServiceVerifier, bearer_token
from paysaga.services.antifraud import checks
from paysaga.services.antifraud.domain import Decision, Limits, PaymentToCheck

log = structlog.get_logger("paysaga.antifraud.grpc")

SERVICE_NAME: str = antifraud_pb2.DESCRIPTOR.services_by_name["AntiFraud"].full_name
MAX_ID_LENGTH = 200

_DECISIONS = {Decision.ALLOW: antifraud_pb2.ALLOW, Decision.DENY: antifraud_pb2.DENY}


class InvalidRequest(ValueError):
    pass


def payment_from_request(request: antifraud_pb2.CheckRequest) -> PaymentToCheck:
    problems: list[str] = []
    for name in ("payment_id", "user_id", "wallet_id"):
        value: str = getattr(request, name)
        if not value.strip():
            problems.append(f"{name} is required")
        elif len(value) > MAX_ID_LENGTH:
            problems.append(f"{name} is longer than {MAX_ID_LENGTH} characters")
    if request.amount <= 0:
        problems.append("amount must be a positive number of minor units")
    if not re.fullmatch(r"[A-Z]{3}", request.currency):
        problems.append("currency must be an ISO 4217 alphabetic code such as RUB")
    if not request.recipient.account_number.strip():
        problems.append("recipient.account_number is required")
    if problems:
        raise InvalidRequest("; ".join(problems))
    created_at = request.created_at.ToDatetime(tzinfo=UTC) if request.HasField("created_at") else None
    return PaymentToCheck(
        payment_id=request.payment_id,
        user_id=request.user_id,
        wallet_id=request.wallet_id,
        amount=request.amount,
        currency=request.currency,
        account_number=request.recipient.account_number.strip(),
        bank_bic=request.recipient.bank_bic.strip(),
        recipient_name=request.recipient.name,
        created_at=created_at,
    )


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, detail: str) -> NoReturn:
    await context.abort(code, detail)  # raises: ends the call with this status
    raise AssertionError("ServicerContext.abort returned")


async def _authenticate(context: grpc.aio.ServicerContext, verifier: ServiceVerifier | None) -> str:
    """The calling service, from its identity token in the `authorization` metadata; the call ends
    UNAUTHENTICATED when the token is missing or invalid, PERMISSION_DENIED when the caller is not
    Payment (SPEC §11: only Payment asks Anti-Fraud)."""
    value = next((m.value for m in context.invocation_metadata() or () if m.key == "authorization"), None)
    token = bearer_token(value if isinstance(value, str) else None)
    if token is None:
        await _abort(context, grpc.StatusCode.UNAUTHENTICATED, "the calling service must present its identity token")
    if verifier is None:
        await _abort(context, grpc.StatusCode.UNAUTHENTICATED, "Anti-Fraud has not been given its callers' keys")
    try:
        caller = verifier.caller(token)
    except IdentityError as exc:
        log.warning("identity.refused", rpc="Check", reason=str(exc))
        await _abort(context, grpc.StatusCode.UNAUTHENTICATED, f"the caller's identity could not be established: {exc}")
    if caller != PAYMENT:
        log.warning("identity.forbidden", rpc="Check", caller=caller)
        await _abort(context, grpc.StatusCode.PERMISSION_DENIED, f"the {caller} service may not call Check")
    return caller


class AntiFraudServicer(antifraud_pb2_grpc.AntiFraudServicer):
    def __init__(
        self,
        db: Database,
        limits: Limits,
        *,
        is_ready: Callable[[], bool],
        budget_seconds: float,
        verifier: ServiceVerifier | None,
    ) -> None:
        self._db = db
        self._limits = limits
        self._is_ready = is_ready
        self._budget = budget_seconds
        self._verifier = verifier

    async def Check(
        self, request: antifraud_pb2.CheckRequest, context: grpc.aio.ServicerContext
    ) -> antifraud_pb2.CheckResponse:
        await _authenticate(context, self._verifier)
        try:
            payment = payment_from_request(request)
        except InvalidRequest as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if not self._is_ready():
            await _abort(context, grpc.StatusCode.UNAVAILABLE, "Anti-Fraud is starting; retry")
        budget = self._budget
        remaining = context.time_remaining()
        if remaining is not None:
            budget = min(budget, remaining)
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(checks.check_payment(self._db, payment, self._limits), budget)
        except checks.ConflictingCheck as exc:
            code, detail = grpc.StatusCode.FAILED_PRECONDITION, str(exc)
        except Exception as exc:
            if is_outage(exc):
                log.warning("antifraud.check_unavailable", payment_id=payment.payment_id, error=repr(exc))
                code, detail = grpc.StatusCode.UNAVAILABLE, "no decision now; retry"
            else:
                log.exception("antifraud.check_failed", payment_id=payment.payment_id)
                code, detail = grpc.StatusCode.INTERNAL, "internal error; it was logged"
        else:
            verdict = result.record.verdict
            log.debug(
                "antifraud.check_answered",
                payment_id=payment.payment_id,
                replayed=result.replayed,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
            return antifraud_pb2.CheckResponse(
                decision=_DECISIONS[verdict.decision], reason=verdict.reason, score=verdict.score
            )
        await _abort(context, code, detail)


class AntiFraudGrpcServer:
    """The grpc.aio server as a component: `start()`/`close()`, or `run()`/`stop()` like a consumer.

    Health (grpc.health.v1): NOT_SERVING until the database answered and `on_ready` ran (the
    blocklist seed), then it follows a periodic database probe. Until then Check is UNAVAILABLE.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        db: Database,
        limits: Limits,
        verifier: ServiceVerifier | None,
        on_ready: Callable[[], Awaitable[object]] | None = None,
        check_timeout_seconds: float = 2.0,
        probe_interval_seconds: float = 1.0,
        grace_seconds: float = 10.0,
        reuse_port: bool = False,
    ) -> None:
        self.host = host
        self._reuse_port = reuse_port
        self.requested_port = port
        self.port: int | None = None
        self.name = "grpc"
        self._db = db
        self._on_ready = on_ready
        self._probe_interval = probe_interval_seconds
        self._grace = grace_seconds
        self._initialised = False
        self._serving = False
        self._server: grpc.aio.Server | None = None
        self._probe: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.health = health.aio.HealthServicer()
        self.servicer = AntiFraudServicer(
            db, limits, is_ready=lambda: self._initialised, budget_seconds=check_timeout_seconds, verifier=verifier
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> int:
        """Bind and serve; returns the bound port (useful with port 0). Fails if the port is taken."""
        server = grpc.aio.server(
            interceptors=[*server_interceptors(), GrpcServerMetrics()],
            # Off unless instances share the port: a second server on a taken port must fail, not share it.
            options=[("grpc.so_reuseport", int(self._reuse_port))],
        )
        antifraud_pb2_grpc.add_AntiFraudServicer_to_server(self.servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        for service in (health.OVERALL_HEALTH, SERVICE_NAME):
            await self.health.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
        try:
            port = server.add_insecure_port(f"{self.host}:{self.requested_port}")
        except RuntimeError as exc:
            raise OSError(f"gRPC cannot listen on {self.host}:{self.requested_port}: {exc}") from exc
        if port == 0:
            raise OSError(f"gRPC cannot listen on {self.host}:{self.requested_port}")
        await server.start()
        self._server, self.port = server, port
        self._probe = asyncio.create_task(self._probe_loop(), name="antifraud-grpc-health")
        log.info("grpc.started", address=self.address, service=SERVICE_NAME)
        return port

    async def _probe_loop(self) -> None:
        while True:
            try:
                await self._db.ping()
                if not self._initialised:
                    if self._on_ready is not None:
                        await self._on_ready()
                    self._initialised = True
                await self._set_serving(True)
            except Exception as exc:
                if self._serving:
                    log.warning("grpc.not_serving", error=repr(exc))
                elif not self._initialised:
                    log.debug("grpc.waiting_for_database", error=repr(exc))
                await self._set_serving(False)
            # Quick polls while starting, then the configured probe interval.
            await asyncio.sleep(self._probe_interval if self._initialised else min(0.1, self._probe_interval))

    async def _set_serving(self, serving: bool) -> None:
        if serving == self._serving:
            return
        self._serving = serving
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for service in (health.OVERALL_HEALTH, SERVICE_NAME):
            await self.health.set(service, status)
        log.info("grpc.health", serving=serving)

    async def check_serving(self) -> None:
        """Readiness check for /readyz: raises unless the gRPC server serves."""
        if self._server is None:
            raise RuntimeError("the gRPC server is not started")
        if not self._serving:
            raise RuntimeError("the gRPC server is NOT_SERVING (database not reachable yet)")

    async def close(self) -> None:
        """Report NOT_SERVING, let the calls in hand finish (up to the grace period), stop."""
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        server, self._server = self._server, None
        if server is None:
            return
        await self.health.enter_graceful_shutdown()
        await server.stop(self._grace)
        log.info("grpc.stopped", address=self.address)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        await self.start()
        try:
            await self._stopping.wait()
        finally:
            await self.close()
