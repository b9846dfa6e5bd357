from __future__ import annotations

from collections.abc import Iterator

import pytest

from paysaga.devstack.catalog import SERVICES
from tests.support.infra import Infra
from tests.support.platform import RunningPlatform, platform_env, platform_kafka_env


# Package scope: the platform stops when the end-to-end tests are done, so its consumers do not
# share databases and topics with the integration tests that run after them.
@pytest.fixture(scope="package")
def platform(infra: Infra) -> Iterator[RunningPlatform]:
    running = RunningPlatform(
        env=platform_env(infra.admin_url, infra.bootstrap, infra.root),
        logs=infra.root / "logs",
        kafka_env=platform_kafka_env(infra.bootstrap, infra.root),
    )
    try:
        for entry in SERVICES:
            running.start(entry)
        yield running
    finally:
        running.stop_all()
