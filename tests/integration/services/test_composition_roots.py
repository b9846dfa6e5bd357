"""Every service's composition root: `build(settings, platform)` takes overrides, the event source
of everything a service writes is the one its root gives it (set once, in main.py), and what it
consumes, in which group, is what the contract (`contracts.bus`, whence its Kafka ACLs) says."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from paysaga.contracts.bus import SUBSCRIPTIONS, event_source
from paysaga.devstack.catalog import SERVICES
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

# Built in a child process: init_process configures logging and tracing for the whole process.
PROBE = """
import importlib, json, os, sys, typing
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
        "ingest": [[w.conf["group.id"], w.topics] for w in service.workers.values() if hasattr(w, "topics")],
        "relay": service.relay is not None,
    }
print(json.dumps(found), flush=True)
os._exit(0)
"""


def test_every_service_is_built_from_overrides_with_its_own_event_source(infra: Infra) -> None:
    names = [s.name for s in SERVICES]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, infra.bootstrap, infra.admin_url, *names],
        env={**os.environ, **infra.kafka.environment()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    built = json.loads(done.stdout.strip().splitlines()[-1])
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
    ingesting = {n: b["ingest"] for n, b in built.items() if b["ingest"]}
    assert ingesting == {n: [[s.group, list(s.topics)]] for n, s in SUBSCRIPTIONS.items() if not s.applies}
    # Only the services that publish events run an outbox relay.
    assert sorted(n for n, b in built.items() if b["relay"]) == ["customer", "payment", "wallet"]
