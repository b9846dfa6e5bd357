"""The other services, called as the operators' identity `ops` on their ops routes (and their
health probes). Their problem details pass through; a service that does not answer is a 503."""

from __future__ import annotations

from collections.abc import Iterator

from paysaga.platform.identity import ServiceIdentity
from paysaga.platform.internal_client import InternalService


def parse_service_urls(text: str) -> dict[str, str]:
    """`name=url,name=url` → {name: url}."""
    urls: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"OPS_SERVICE_URLS: {item!r} is not name=http(s)://host:port")
        urls[name.strip()] = url.strip().rstrip("/")
    return urls


class Peer(InternalService):
    """One service, called as the operators' identity: `name` is its catalog name."""

    def __init__(self, name: str, base_url: str, identity: ServiceIdentity, *, timeout: float) -> None:
        super().__init__(name, base_url, identity, timeout=timeout, max_connections=16)


class Peers:
    def __init__(self, urls: dict[str, str], identity: ServiceIdentity, *, timeout: float) -> None:
        self._peers = {name: Peer(name, url, identity, timeout=timeout) for name, url in urls.items()}

    def __iter__(self) -> Iterator[Peer]:
        return iter(self._peers.values())

    def __getitem__(self, name: str) -> Peer:
        return self._peers[name]

    def __contains__(self, name: object) -> bool:
        return name in self._peers

    def get(self, name: str) -> Peer | None:
        return self._peers.get(name)

    async def close(self) -> None:
        for peer in self._peers.values():
            await peer.close()
