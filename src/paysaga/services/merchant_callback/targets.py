"""Where webhooks may go: public addresses only, unless told otherwise.

A webhook URL is the merchant's to choose, and the dispatcher POSTs from inside our network: a
URL naming (or resolving to) a loopback, private, link-local or otherwise non-public address
would let a merchant make us call our own services or the cloud metadata endpoint (SSRF). The
URL is checked when it is subscribed and again before every attempt, since DNS answers change.
A name can still resolve differently between the check and the connection (DNS rebinding); the
dispatcher neither follows redirects nor uses proxies, which closes the other usual detours.
The local platform, where everything listens on 127.0.0.1, allows private targets.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class WebhookTargets:
    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def refusal(self, url: str) -> str | None:
        """Why a webhook may not go to `url` now, or None if it may (a well-formed http(s) URL)."""
        if self.allow_private:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:  # gaierror is an OSError
            return f"the host {host!r} does not resolve ({exc})"
        addresses = sorted({str(info[4][0]) for info in infos})
        blocked = [a for a in addresses if not _public(a)]
        if blocked:
            return f"the host {host!r} resolves to a non-public address ({', '.join(blocked)})"
        return None
