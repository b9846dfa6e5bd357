"""Every service's composition root: `build(settings, platform)` takes overrides, the event source
of everything a service writes is the one its root gives it (set once, in main.py), and what it
consumes, in which group, is what the contract (`contracts.bus`, whence its Kafka ACLs) says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from paysaga.contracts.bus import SUBSCRIPTIONS, event_source
from paysaga.devstack.catalog import SERVICES
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

# Built in a child process: init_process configures logging and tracing for the whole process.
PROBE = """
import importlib, json, os, sys, typing
from paysaga.platform.service_auth import api_routes, protected_routes
from paysaga.services.ops.auth import current_operator
from paysaga.platform.settings import PlatformSettings
platform = PlatformSettings(
    kafka_bootstrap_servers=sys.argv[1], paysaga_postgres_url=sys.argv[2], paysaga_env="dev"
)
found = {}
for name in sys.argv[3:]:
    main = importlib.import_module(f"paysaga.services.{name}.main")
    settings_cls = typing.get_args(typing.get_type_hints(main.build)["settings"])[0]  # X of `X | None`
    service = main.build(settings=settings_cls(port=40123), platform=platform)
    found[name] = {
        "name": service.name,
        "port": service.port,
        "consumer_sources": [c.source for c in service.consumers],
        "consumers": [[c.group_id, sorted(c._handlers)] for c in service.consumers],
        "before_batch": [getattr(c._before_batch, "__qualname__", None) for c in service.consumers],
        "ingest": [[w.conf["group.id"], w.topics] for w in service.workers.values() if hasattr(w, "topics")],
        "relay": service.relay is not None,
        "protected": {route: sorted(allowed) for route, allowed in protected_routes(service.app).items()},
        "open": sorted(f"{m} {r.path}" for r in api_routes(service.app) for m in r.methods or ()),
        "operator": sorted(
            f"{m} {r.path}"
            for r in api_routes(service.app)
            if any(d.call is current_operator for d in r.dependant.dependencies)
            for m in r.methods or ()
        ),
    }
print(json.dumps(found), flush=True)
os._exit(0)
"""


@pytest.fixture(scope="module")
def built(infra: Infra) -> dict[str, dict[str, Any]]:
    """What each service's `build()` made, in a child process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, infra.bootstrap, infra.admin_url, *(s.name for s in SERVICES)],
        env={**os.environ, **infra.kafka.environment()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_every_service_is_built_from_overrides_with_its_own_event_source(built: dict[str, dict[str, Any]]) -> None:
    names = [s.name for s in SERVICES]
    assert {n: (b["name"], b["port"]) for n, b in built.items()} == {n: (n, 40123) for n in names}
    consuming = {n: b["consumer_sources"] for n, b in built.items() if b["consumer_sources"]}
    # The contract's source of each service (what its consumers accept from it) is the one its root gives it.
    assert consuming == {
        n: [event_source(n)]
        for n in ("wallet", "payment", "antifraud", "query", "notification", "merchant_callback", "core_banking")
    }
    # Each service consumes what the contract says, in its group; the DWH's ingest reads every topic.
    subscribed = {n: b["consumers"] for n, b in built.items() if b["consumers"]}
    assert subscribed == {
        n: [[s.group, sorted(e.type_name() for e in s.events)]] for n, s in SUBSCRIPTIONS.items() if s.applies
    }
    # Wallet's batches lock the wallets they settle in one order first (instances' batches deadlocked).
    preparing = {n: b["before_batch"] for n, b in built.items() if any(b["before_batch"])}
    assert preparing == {"wallet": ["lock_settled_wallets"]}
    ingesting = {n: b["ingest"] for n, b in built.items() if b["ingest"]}
    assert ingesting == {n: [[s.group, list(s.read_topics)]] for n, s in SUBSCRIPTIONS.items() if not s.applies}
    # Only the services that publish events run an outbox relay.
    assert sorted(n for n, b in built.items() if b["relay"]) == ["customer", "payment", "wallet"]


BFF, OPS, BOTH = ["bff"], ["ops"], ["bff", "ops"]
# SPEC §11: who may call each internal route. Only the BFF reserves funds, tops up, registers and
# verifies credentials; the operators' tools read and act on the ops routes.
ALLOWED = {
    "customer": {
        "GET /ops/outbox": OPS,
        "POST /v1/customers": BFF,
        "POST /v1/credentials/verify": BFF,
        "GET /v1/customers/{user_id}": BOTH,
    },
    "wallet": {
        "GET /ops/outbox": OPS,
        "GET /v1/users/{user_id}/wallet": BOTH,
        "POST /v1/users/{user_id}/top-ups": BFF,
        "POST /v1/users/{user_id}/reservations": BFF,
        "GET /v1/users/{user_id}/wallet/ledger": BOTH,
        "GET /v1/balances": OPS,
        "GET /v1/settlements": OPS,
        "GET /v1/reservations/held": OPS,
        "GET /v1/payments/{payment_id}/history": OPS,
        "GET /ops/inbox": OPS,
    },
    "query": {
        "GET /v1/users/{user_id}/payments/{payment_id}": BOTH,
        "GET /v1/users/{user_id}/payments": BOTH,
        "GET /v1/payments/{payment_id}/history": OPS,
        "GET /ops/inbox": OPS,
    },
    "payment": {
        "GET /ops/outbox": OPS,
        "GET /v1/payments/{payment_id}": OPS,
        "GET /v1/reconciliation-cases": OPS,
        "GET /v1/reconciliation-cases/{case_id}": OPS,
        "POST /v1/reconciliation-cases/{case_id}/resolve": OPS,
        "GET /v1/finals": OPS,
        "GET /v1/payments/{payment_id}/history": OPS,
        "GET /v1/payments": OPS,
        "GET /v1/stuck-payments": OPS,
        "GET /v1/payment-statuses": OPS,
        "GET /ops/inbox": OPS,
    },
    "antifraud": {
        "GET /v1/rules": OPS,
        "GET /v1/blocklist": OPS,
        "PUT /v1/blocklist/{accountNumber}": OPS,
        "DELETE /v1/blocklist/{accountNumber}": OPS,
        "GET /v1/checks": OPS,
        "GET /v1/payments/{paymentId}/history": OPS,
        "GET /ops/inbox": OPS,
    },
    "core_banking": {
        "GET /v1/accounts": OPS,
        "GET /v1/accounts/{code}/balances": OPS,
        "GET /v1/trial-balance": OPS,
        "GET /v1/journal": OPS,
        "GET /v1/journal/{entryId}": OPS,
        "POST /v1/journal/{entryId}/reversal": OPS,
        "GET /v1/unposted-completions": OPS,
        "GET /v1/payments/{paymentId}/history": OPS,
        "GET /ops/inbox": OPS,
    },
    "notification": {
        "GET /v1/notifications": OPS,
        "GET /v1/gateways/{channel}": OPS,
        "PUT /v1/gateways/{channel}/behaviour": OPS,
        "GET /v1/gateways/{channel}/sent": OPS,
        "GET /v1/payments/{payment_id}/history": OPS,
        "GET /ops/inbox": OPS,
    },
    "merchant_callback": {
        "POST /v1/subscriptions": OPS,
        "GET /v1/subscriptions": OPS,
        "GET /v1/subscriptions/{subscription_id}": OPS,
        "DELETE /v1/subscriptions/{subscription_id}": OPS,
        "GET /v1/deliveries": OPS,
        "GET /v1/deliveries/{delivery_id}": OPS,
        "POST /v1/deliveries/{delivery_id}/redeliver": OPS,
        "GET /v1/payments/{payment_id}/history": OPS,
        "GET /ops/inbox": OPS,
    },
    "dwh": {"GET /v1/summary": OPS, "GET /v1/payments/{paymentId}/records": OPS},
    "bff": {"POST /internal/v1/token-introspection": OPS},  # else public: its customers log in
    "callback": {},  # public: the provider's signature is checked
    "provider_sim": {},  # the external bank's stand-in
    "ops": {},  # the operators' own API: an operator's token on every route but login (below)
}
ALWAYS_OPEN = {"GET /healthz", "GET /readyz", "GET /metrics"}  # /metrics: Prometheus, no customer data


def test_every_internal_route_names_the_callers_it_lets_in(built: dict[str, dict[str, Any]]) -> None:
    assert {n: b["protected"] for n, b in built.items()} == ALLOWED
    for name in ALLOWED:
        if name in ("bff", "callback", "provider_sim", "ops"):
            continue
        unprotected = set(built[name]["open"]) - set(built[name]["protected"])
        assert unprotected == ALWAYS_OPEN, name


def test_every_operator_route_but_login_needs_an_operator(built: dict[str, dict[str, Any]]) -> None:
    ops = built["ops"]
    assert all(route.split()[1].startswith("/ops/v1/") for route in ops["operator"])
    assert set(ops["open"]) - set(ops["operator"]) == ALWAYS_OPEN | {"POST /ops/v1/auth/login"}
    assert all(not b["operator"] for name, b in built.items() if name != "ops")
