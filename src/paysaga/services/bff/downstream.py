"""Calls to the internal services, as the BFF. Their problem details pass through; an outage (or
a refusal of the BFF's identity) becomes a 503 (`platform.internal_client`)."""

from __future__ import annotations

from paysaga.platform.identity import ServiceIdentity
from paysaga.platform.internal_client import InternalService


class Downstream(InternalService):
    """An internal service, called as the BFF (`identity`): `name` is the service's own name, the
    audience of the BFF's identity token."""

    def __init__(self, name: str, base_url: str, timeout: float, identity: ServiceIdentity) -> None:
        super().__init__(name, base_url, identity, timeout=timeout, max_connections=100)
