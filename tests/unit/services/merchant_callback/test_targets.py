"""Webhook targets: public addresses only, and the checked address is the one connected to. Literal
addresses, /etc/hosts or a stand-in resolver only, so nothing depends on a DNS server."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from paysaga.services.merchant_callback.dispatcher import WebhookDispatcher
from paysaga.services.merchant_callback.domain import RetryPolicy
from paysaga.services.merchant_callback.repository import DueDelivery
from paysaga.services.merchant_callback.secretbox import SecretBox
from paysaga.services.merchant_callback.targets import Target, TargetRefused, WebhookTargets

BOX = SecretBox(Fernet.generate_key().decode())

pytestmark = pytest.mark.unit

STRICT = WebhookTargets(allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/hook",  # resolved from /etc/hosts
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "https://[fe80::1]/hook",  # link-local
    ],
)
async def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="non-public address"):
        await STRICT.check(url)


@pytest.mark.parametrize("url", ["https://93.184.216.34/hook", "http://8.8.8.8:8443/x", "https://[2606:4700::1111]/"])
async def test_public_addresses_are_allowed(url: str) -> None:
    target = await STRICT.check(url)
    assert target.url == url


async def test_the_local_platform_may_allow_private_targets() -> None:
    assert await WebhookTargets(allow_private=True).check("http://127.0.0.1:9/hook") == Target(
        "http://127.0.0.1:9/hook"
    )


def _resolver(monkeypatch: pytest.MonkeyPatch, answers: list[list[str]]) -> list[str]:
    """The event loop's resolver answers each lookup with the next list of addresses."""
    asked: list[str] = []

    async def getaddrinfo(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[len(asked) - 1]]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return asked


async def test_the_checked_address_is_pinned_with_the_merchants_host_and_server_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rebinding resolver: public for the check, loopback right after. Only one lookup happens.
    asked = _resolver(monkeypatch, [["93.184.216.34"], ["127.0.0.1"]])
    target = await STRICT.check("https://merchant.example:8443/hooks/paysaga?v=1")
    assert asked == ["merchant.example"]
    assert target == Target(
        "https://93.184.216.34:8443/hooks/paysaga?v=1",
        {"Host": "merchant.example:8443"},
        {"sni_hostname": "merchant.example"},
    )


async def test_one_non_public_address_among_public_ones_refuses_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolver(monkeypatch, [["93.184.216.34", "10.0.0.5"]])
    with pytest.raises(TargetRefused, match=r"10\.0\.0\.5"):
        await STRICT.check("http://merchant.example/hook")


async def test_the_dispatcher_connects_to_the_pinned_address(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolver(monkeypatch, [["93.184.216.34"], ["127.0.0.1"]])
    seen: list[httpx.Request] = []

    def merchant(request: httpx.Request) -> httpx.Response:  # stands in for the merchant's server
        seen.append(request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(merchant))
    dispatcher = WebhookDispatcher(
        None,  # type: ignore[arg-type]  # sending touches no database
        client,
        RetryPolicy(initial_seconds=1, max_seconds=1, horizon_seconds=60),
        targets=STRICT,
        box=BOX,
        request_timeout_seconds=5,
        batch=1,
        lease_seconds=10,
        poll_seconds=1,
    )
    due = DueDelivery(
        delivery_id=uuid.uuid4(),
        payment_id="p-1",
        subscription_id=uuid.uuid4(),
        event_type="payment.completed",
        body='{"paymentId":"p-1"}',
        attempts=0,
        round_attempts=0,
        give_up_at=datetime.now(UTC),
        lease_token=uuid.uuid4(),
        url="https://merchant.example/hooks/paysaga",
        secret_encrypted=BOX.encrypt("a-long-merchant-secret"),
        subscription_deleted=False,
    )
    result = await dispatcher.send(due)
    await client.aclose()
    assert (result.status_code, result.error) == (204, None)
    [request] = seen
    assert str(request.url) == "https://93.184.216.34/hooks/paysaga"
    assert request.headers["host"] == "merchant.example"
    assert request.extensions["sni_hostname"] == "merchant.example"
