"""The webhook dispatcher: leases due deliveries and POSTs them to the merchants, many at a time.

The schedule lives in the database (`deliveries.next_attempt_at`), so a restart loses nothing. Leases (`FOR
UPDATE SKIP LOCKED`, `lease_until`) let several instances share the work; a dispatcher that dies mid-request
leaves its lease to run out, and the webhook is sent again under the same delivery id (receivers deduplicate
on it).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import structlog
from prometheus_client import Counter

from paysaga.contracts.signatures import signature_header
from paysaga.platform.db import Database
from paysaga.platform.lease_loop import LeaseLoop
from paysaga.services.merchant_callback import repository
from paysaga.services.merchant_callback.domain import (
    DeliveryStatus,
    RetryPolicy,
    is_success,
    next_attempt_at,
    webhook_headers,
)
from paysaga.services.merchant_callback.repository import DueDelivery
from paysaga.services.merchant_callback.secretbox import SecretBox
from paysaga.services.merchant_callback.targets import TargetRefused, WebhookTargets

log = structlog.get_logger("paysaga.merchant_callback.dispatcher")

_ERROR_SNIPPET_BYTES = 300

WEBHOOK_ATTEMPTS = Counter(
    "paysaga_webhook_attempts_total",
    "Webhook POSTs to merchants by outcome: delivered (2xx), retry (failed, scheduled again), dead_lettered "
    "(failed, no retry left), lease_lost (the result came too late to be recorded)",
    ["outcome"],
)
for _outcome in ("delivered", "retry", "dead_lettered", "lease_lost"):
    WEBHOOK_ATTEMPTS.labels(_outcome)  # from 0: `increase()` then sees the first dead letter


@dataclass(frozen=True, slots=True)
class AttemptResult:
    attempted_at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None  # None: the merchant acknowledged with a 2xx


def webhook_client(timeout_seconds: float) -> httpx.AsyncClient:
    """The HTTP client of the dispatcher: no redirects followed, no proxies from the environment."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


async def _read_snippet(response: httpx.Response) -> str:
    """The start of a refusal's body, for the attempt log (never the whole of a large body)."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _ERROR_SNIPPET_BYTES:
            break
    return data[:_ERROR_SNIPPET_BYTES].decode(errors="replace").strip()


class WebhookDispatcher:
    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        policy: RetryPolicy,
        *,
        targets: WebhookTargets,
        box: SecretBox,
        request_timeout_seconds: float,
        batch: int,
        lease_seconds: float,
        poll_seconds: float,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._db = db
        self._client = client
        self._policy = policy
        self._targets = targets
        self._box = box
        self._timeout = request_timeout_seconds
        self._lease = lease_seconds
        self._jitter = jitter
        # Finish the requests in hand on stop (each is bounded by the request timeout) and record them.
        self._loop: LeaseLoop[DueDelivery] = LeaseLoop(
            "merchant_callback",
            self._claim,
            self._deliver,
            capacity=batch,
            poll_seconds=poll_seconds,
            drain_seconds=request_timeout_seconds + 5,
        )

    def wake(self) -> None:
        self._loop.wake()

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        log.info("merchant_callback.dispatcher_started")
        await self.encrypt_plaintext_secrets()
        await self._loop.run()
        log.info("merchant_callback.dispatcher_stopped")

    async def encrypt_plaintext_secrets(self) -> None:
        """Encrypt the secrets still stored in plaintext (subscriptions made before the secrets were
        encrypted at rest). Done here, eagerly, rather than lazily when a webhook is sent: the
        plaintext leaves the database at the first start of the new version, not whenever each
        merchant next gets a payment. A failure is logged and retried at the next plaintext met."""
        try:
            async with self._db.connection() as conn:
                done = await repository.encrypt_plaintext_secrets(conn, self._box.encrypt)
        except Exception as exc:
            log.exception("merchant_callback.secret_encryption_failed", error=repr(exc))
            return
        if done:
            log.info("merchant_callback.secrets_encrypted", subscriptions=done)

    async def _claim(self, limit: int) -> list[DueDelivery]:
        async with self._db.connection() as conn:
            return await repository.claim_due(conn, limit=limit, lease_seconds=self._lease)

    async def _deliver(self, due: DueDelivery) -> None:
        try:
            if due.subscription_deleted:
                await self._give_up_deleted(due)
                return
            if due.secret_encrypted is None:
                # Written in plaintext by an instance of the previous version (rolling deploy):
                # encrypt it now; the lease runs out and the webhook is sent with the ciphertext.
                await self.encrypt_plaintext_secrets()
                return
            result = await self.send(due)
            await self._settle(due, result)
        except Exception as exc:
            # The database went away mid-way (or a bug): the lease runs out and the delivery is
            # attempted again from its stored state, under the same delivery id.
            log.exception("merchant_callback.delivery_step_failed", delivery_id=str(due.delivery_id), error=repr(exc))

    async def send(self, due: DueDelivery) -> AttemptResult:
        """One signed POST of the delivery's stored body; never raises for the merchant's failures."""
        body = due.body.encode()
        assert due.secret_encrypted is not None
        headers = webhook_headers(
            delivery_id=str(due.delivery_id),
            event_type=due.event_type,
            signature=signature_header(self._box.decrypt(due.secret_encrypted), body),
        )
        attempted_at = datetime.now(UTC)
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None
        try:
            target = await self._targets.check(due.url)
        except TargetRefused as exc:
            return AttemptResult(attempted_at, 0.0, None, f"not sent: {exc}")
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._client.stream(
                    "POST",
                    target.url,
                    content=body,
                    headers={**headers, **target.headers},
                    extensions=target.extensions,
                ) as response,
            ):
                status_code = response.status_code
                error = None
                if not is_success(status_code):
                    snippet = await _read_snippet(response)
                    error = f"HTTP {status_code}" + (f": {snippet}" if snippet else "")
        except TimeoutError:
            error = f"timeout after {self._timeout:g}s"
        except Exception as exc:  # connection refused, reset, TLS, invalid URL, ...
            error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")[:500]
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        return AttemptResult(attempted_at, duration_ms, status_code, error)

    async def _settle(self, due: DueDelivery, result: AttemptResult) -> None:
        failed_attempt = due.round_attempts + 1
        now = datetime.now(UTC)
        if result.error is None:
            status, following = DeliveryStatus.DELIVERED, None
        else:
            following = next_attempt_at(
                failed_attempt=failed_attempt,
                now=now,
                give_up_at=due.give_up_at,
                policy=self._policy,
                jitter=self._jitter(),
            )
            status = DeliveryStatus.DEAD if following is None else DeliveryStatus.PENDING
        async with self._db.transaction() as conn:
            await repository.record_attempt(
                conn,
                due.delivery_id,
                attempted_at=result.attempted_at,
                duration_ms=result.duration_ms,
                status_code=result.status_code,
                error=result.error,
            )
            kept_lease = await repository.settle_attempt(
                conn,
                due.delivery_id,
                due.lease_token,
                status=status,
                attempted_at=result.attempted_at,
                status_code=result.status_code,
                error=result.error,
                next_attempt_at=following,
            )
        fields = {
            "delivery_id": str(due.delivery_id),
            "payment_id": due.payment_id,
            "subscription_id": str(due.subscription_id),
            "attempt": due.attempts + 1,
            "status_code": result.status_code,
            "ms": result.duration_ms,
        }
        outcome = {DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.PENDING: "retry"}.get(status, "dead_lettered")
        WEBHOOK_ATTEMPTS.labels(outcome if kept_lease else "lease_lost").inc()
        if not kept_lease:
            log.warning("merchant_callback.lease_lost", **fields, error=result.error)
        elif status is DeliveryStatus.DELIVERED:
            log.debug("merchant_callback.delivered", **fields)
        elif status is DeliveryStatus.PENDING:
            assert following is not None
            log.warning(
                "merchant_callback.attempt_failed", **fields, error=result.error, next_attempt_at=following.isoformat()
            )
        else:
            log.error("merchant_callback.dead_lettered", **fields, error=result.error)

    async def _give_up_deleted(self, due: DueDelivery) -> None:
        async with self._db.transaction() as conn:
            await repository.settle_attempt(
                conn,
                due.delivery_id,
                due.lease_token,
                status=DeliveryStatus.DEAD,
                attempted_at=None,
                status_code=None,
                error="subscription deleted",
                next_attempt_at=None,
            )
        log.warning(
            "merchant_callback.dead_lettered",
            delivery_id=str(due.delivery_id),
            payment_id=due.payment_id,
            error="subscription deleted",
        )
