"""The payout provider's HTTP API, as the Payment service uses it (see the provider simulator)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from paysaga.platform.http_client import HttpClient, HttpTransportError
from paysaga.services.payment.metrics import provider_request


@dataclass(frozen=True, slots=True)
class PayoutState:
    payment_id: str
    status: str  # PROCESSING | SUCCESS | FAILED


class ProviderUnavailable(Exception):
    """No definite answer (5xx, timeout, network): retry with the same paymentId."""


class ProviderMisconfigured(ProviderUnavailable):
    """401/403/404: our key or URL is wrong. Not an answer about the payout: retried like an outage
    (and logged at error level), never taken for a decline."""


class PayoutDeclined(Exception):
    """The provider refused the payout outright (400/422): it was not made and never will be."""


DECLINED = (400, 422)


def _outcome(status_code: int, *, declined: tuple[int, ...] = ()) -> str:
    if 200 <= status_code < 300:
        return "success"
    return "declined" if status_code in declined else "error"


class ProviderClient:
    def __init__(self, base_url: str, *, api_key: str, callback_url: str, timeout: float) -> None:
        self._callback_url = callback_url
        self._client = HttpClient(
            base_url, timeout=timeout, headers={"Authorization": f"Bearer {api_key}"}, max_connections=200
        )

    async def submit(self, *, payment_id: str, amount: int, currency: str, recipient: dict[str, Any]) -> str:
        """Create the payout (idempotent on payment_id); the provider's transaction id."""
        body = {
            "paymentId": payment_id,
            "amount": amount,
            "currency": currency,
            "recipient": recipient,
            "callbackUrl": self._callback_url,
        }
        started = time.perf_counter()
        try:
            response = await self._client.post("/v1/payouts", json=body, headers={"Idempotency-Key": payment_id})
        except HttpTransportError as exc:
            provider_request("submit", "unreachable", started)
            raise ProviderUnavailable(repr(exc)) from exc
        provider_request("submit", _outcome(response.status_code, declined=DECLINED), started)
        if response.is_success:
            return str(response.json()["providerTxnId"])
        if response.status_code in DECLINED:
            raise PayoutDeclined(f"HTTP {response.status_code}: {response.text[:300]}")
        if response.status_code in (401, 403, 404):
            raise ProviderMisconfigured(f"HTTP {response.status_code}: {response.text[:300]}")
        # 5xx, 408, 425, 429, and 409: the provider holds another payout under this paymentId,
        # which may still be paid. None of them says "not paid": keep asking until the deadline.
        raise ProviderUnavailable(f"HTTP {response.status_code}: {response.text[:300]}")

    async def status(self, provider_txn_id: str) -> str:
        """PROCESSING, SUCCESS or FAILED (the status inquiry)."""
        return (await self.payout(provider_txn_id)).status

    async def payout(self, provider_txn_id: str) -> PayoutState:
        """The status inquiry, with the paymentId the provider holds the payout under."""
        started = time.perf_counter()
        try:
            response = await self._client.get(f"/v1/payouts/{provider_txn_id}")
        except HttpTransportError as exc:
            provider_request("inquiry", "unreachable", started)
            raise ProviderUnavailable(repr(exc)) from exc
        if not response.is_success:
            provider_request("inquiry", "error", started)
            raise ProviderUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
            state = PayoutState(payment_id=str(body["paymentId"]), status=str(body["status"]))
        except (ValueError, TypeError, KeyError) as exc:
            provider_request("inquiry", "error", started)
            raise ProviderUnavailable(f"unreadable status answer: {response.text[:300]!r}") from exc
        provider_request("inquiry", "success", started)
        return state

    async def healthy(self) -> None:
        (await self._client.get("/healthz")).raise_for_status()

    async def close(self) -> None:
        await self._client.close()
