"""Where webhooks may go: public addresses only, unless told otherwise.

The dispatcher POSTs from inside our network, so a merchant's URL naming or resolving to a non-public address
would make us call our own services or the cloud metadata endpoint (SSRF). The URL is checked when subscribed
and before every attempt, and the attempt connects to the very address checked (`Host` and the TLS server name
stay the merchant's), so DNS rebinding changes nothing; redirects and proxies are not used. The local platform,
where everything listens on 127.0.0.1, allows private targets.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx


class TargetRefused(Exception):
    """A webhook may not go to this URL (now)."""


@dataclass(frozen=True, slots=True)
class Target:
    """How to reach a checked webhook URL: where to connect, and what to tell the server."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class WebhookTargets:
    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def check(self, url: str) -> Target:
        """The target to send to `url` (a well-formed http(s) URL); TargetRefused if it may not."""
        if self.allow_private:
            return Target(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:  # gaierror is an OSError
            raise TargetRefused(f"the host {host!r} does not resolve ({exc})") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise TargetRefused(f"the host {host!r} does not resolve")
        blocked = [a for a in addresses if not _public(a)]
        if blocked:
            raise TargetRefused(f"the host {host!r} resolves to a non-public address ({', '.join(blocked)})")
        pinned = str(httpx.URL(url).copy_with(host=addresses[0]))
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return Target(pinned, {"Host": parts.netloc}, extensions)
