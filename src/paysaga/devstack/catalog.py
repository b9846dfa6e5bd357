"""The services the platform runs, their default ports and databases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port: int
    has_database: bool

    @property
    def module(self) -> str:
        return f"paysaga.services.{self.name}.main"

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_") + "_"

    @property
    def database(self) -> str:
        return f"paysaga_{self.name}"


SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry("provider_sim", 8099, False),
    ServiceEntry("antifraud", 8006, True),
    ServiceEntry("customer", 8001, True),
    ServiceEntry("wallet", 8002, True),
    ServiceEntry("payment", 8003, True),
    ServiceEntry("callback", 8004, False),
    ServiceEntry("query", 8005, True),
    ServiceEntry("notification", 8007, True),
    ServiceEntry("merchant_callback", 8008, True),
    ServiceEntry("core_banking", 8009, True),
    ServiceEntry("dwh", 8010, False),
    ServiceEntry("bff", 8000, True),
    ServiceEntry("ops", 8011, True),  # the operators' backend: it watches every other entry
)

ANTIFRAUD_GRPC_PORT = 50051


def wiring(port_of: Callable[[str], int], grpc_port: int = ANTIFRAUD_GRPC_PORT) -> dict[str, str]:
    """The environment that points each service at the others, for the given ports."""

    def url(name: str) -> str:
        return f"http://127.0.0.1:{port_of(name)}"

    env = {f"{s.env_prefix}PORT": str(port_of(s.name)) for s in SERVICES}
    env.update(
        {
            "BFF_CUSTOMER_URL": url("customer"),
            "BFF_WALLET_URL": url("wallet"),
            "BFF_QUERY_URL": url("query"),
            "ANTIFRAUD_GRPC_PORT": str(grpc_port),
            "PAYMENT_ANTIFRAUD_TARGET": f"127.0.0.1:{grpc_port}",
            "PAYMENT_PROVIDER_URL": url("provider_sim"),
            "PAYMENT_CALLBACK_URL": url("callback") + "/v1/provider/callbacks",
            # Everything here listens on 127.0.0.1, merchants' test endpoints too; in production
            # webhooks go to public addresses only (the default).
            "MERCHANT_CALLBACK_ALLOW_PRIVATE_TARGETS": "true",
            "OPS_SERVICE_URLS": ",".join(f"{s.name}={url(s.name)}" for s in SERVICES if s.name != "ops"),
        }
    )
    return env
