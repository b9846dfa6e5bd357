"""Delivering one signed callback, with retries and exponential backoff until a 2xx."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from paysaga.platform.http_client import HttpClient, HttpTransportError
from paysaga.services.provider_sim.schemas import CallbackPayload
from paysaga.services.provider_sim.signing import SIGNATURE_HEADER, signature_header
from paysaga.services.provider_sim.store import CallbackAttempt

log = structlog.get_logger("paysaga.provider_sim")


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_seconds: float
    multiplier: float
    max_seconds: float
    max_attempts: int

    def delay_after(self, attempt: int) -> float | None:
        """Seconds to wait after failed attempt number `attempt` (1-based); None after the last one."""
        if attempt >= self.max_attempts:
            return None
        return min(self.initial_seconds * self.multiplier ** (attempt - 1), self.max_seconds)


def encode(payload: CallbackPayload) -> bytes:
    """The exact bytes that are signed and sent: compact JSON, camelCase keys."""
    return json.dumps(
        payload.model_dump(mode="json", by_alias=True), separators=(",", ":"), ensure_ascii=False
    ).encode()


class CallbackSender:
    def __init__(
        self,
        *,
        secret: str,
        backoff: Backoff,
        timeout_seconds: float,
        record: Callable[[CallbackAttempt], None],
    ) -> None:
        self._secret = secret
        self._backoff = backoff
        self._record = record
        self.client = HttpClient(timeout=timeout_seconds, headers={"User-Agent": "paysaga-provider-sim"})

    async def deliver(self, url: str, payload: CallbackPayload, traceparent: str | None = None) -> bool:
        """POST `payload` until the receiver answers 2xx or the attempts are used up; True if delivered."""
        body = encode(payload)
        attempt = 0
        while True:
            attempt += 1
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature_header(self._secret, body),
            }
            if traceparent:
                headers["traceparent"] = traceparent
            status_code: int | None = None
            error: str | None = None
            try:
                response = await self.client.post(url, content=body, headers=headers)
                status_code = response.status_code
                delivered = response.is_success
            except HttpTransportError as exc:
                error = str(exc)[:500]
                delivered = False
            retry_in = None if delivered else self._backoff.delay_after(attempt)
            self._record(
                CallbackAttempt(
                    callback_id=payload.callback_id,
                    provider_txn_id=payload.provider_txn_id,
                    payment_id=payload.payment_id,
                    callback_status=payload.status,
                    attempt=attempt,
                    at=datetime.now(UTC),
                    status_code=status_code,
                    error=error,
                    delivered=delivered,
                    next_retry_seconds=retry_in,
                )
            )
            fields = {
                "callback_id": payload.callback_id,
                "provider_txn_id": payload.provider_txn_id,
                "payment_id": payload.payment_id,
                "callback_status": payload.status,
                "attempt": attempt,
                "http_status": status_code,
                "error": error,
            }
            if delivered:
                log.debug("callback.delivered", **fields)
                return True
            if retry_in is None:
                log.error("callback.gave_up", **fields)
                return False
            log.warning("callback.attempt_failed", retry_in_seconds=retry_in, **fields)
            await asyncio.sleep(retry_in)

    async def close(self) -> None:
        await self.client.close()
