"""The services the platform runs, their default ports and databases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port: int
    has_database: bool
    # Several instances may run at once (consumer groups share partitions; the outbox relay, the lease
    # workers and the sweeps coordinate through PostgreSQL). Not the DWH (one DuckDB writer), the
    # provider simulator (the bank's stand-in keeps its script in memory) or the Ops service (one
    # reconciliation job).
    scalable: bool = True

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
    ServiceEntry("provider_sim", 8099, False, scalable=False),
    ServiceEntry("antifraud", 8006, True),
    ServiceEntry("customer", 8001, True),
    ServiceEntry("wallet", 8002, True),
    ServiceEntry("payment", 8003, True),
    ServiceEntry("callback", 8004, False),
    ServiceEntry("query", 8005, True),
    ServiceEntry("notification", 8007, True),
    ServiceEntry("merchant_callback", 8008, True),
    ServiceEntry("core_banking", 8009, True),
    ServiceEntry("dwh", 8010, False, scalable=False),
    ServiceEntry("bff", 8000, True),
    ServiceEntry("ops", 8011, True, scalable=False),  # the operators' backend: it watches every other entry
)

ANTIFRAUD_GRPC_PORT = 50051
# Instance i (from 1) of a service that runs several also listens on its port + INSTANCE_PORT_STRIDE * i.
INSTANCE_PORT_STRIDE = 100


def instance_count(entry: ServiceEntry, environ: Mapping[str, str]) -> int:
    """How many instances of the service to run: `<SERVICE>_INSTANCES`, else `PAYSAGA_INSTANCES`, else 1
    (always 1 for a service that is not scalable)."""
    if not entry.scalable:
        return 1
    text = environ.get(f"{entry.env_prefix}INSTANCES", environ.get("PAYSAGA_INSTANCES", "1"))
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{entry.env_prefix}INSTANCES / PAYSAGA_INSTANCES: {text!r} is not a number") from None
    if not 1 <= count <= 9:
        raise ValueError(f"{entry.env_prefix}INSTANCES / PAYSAGA_INSTANCES: {count} is not between 1 and 9")
    return count


@dataclass(frozen=True)
class Instance:
    """One process of a service: `name` is the supervisor's (`wallet`, or `wallet-2` of several);
    `own_port` the port of its own when several share the service's port (None when alone)."""

    entry: ServiceEntry
    name: str
    own_port: int | None


def instances(entry: ServiceEntry, count: int, port: int) -> list[Instance]:
    if count == 1:
        return [Instance(entry, entry.name, None)]
    return [Instance(entry, f"{entry.name}-{i}", port + INSTANCE_PORT_STRIDE * i) for i in range(1, count + 1)]


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
