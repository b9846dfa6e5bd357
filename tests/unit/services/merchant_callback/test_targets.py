"""Webhook targets: public addresses only, unless the local platform allows private ones. Literal
addresses only here, so nothing depends on a DNS server."""

from __future__ import annotations

import pytest

from paysaga.services.merchant_callback.targets import WebhookTargets

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
    refusal = await STRICT.refusal(url)
    assert refusal is not None and "non-public address" in refusal


@pytest.mark.parametrize("url", ["https://93.184.216.34/hook", "http://8.8.8.8:8443/x", "https://[2606:4700::1111]/"])
async def test_public_addresses_are_allowed(url: str) -> None:
    assert await STRICT.refusal(url) is None


async def test_the_local_platform_may_allow_private_targets() -> None:
    assert await WebhookTargets(allow_private=True).refusal("http://127.0.0.1:9/hook") is None
