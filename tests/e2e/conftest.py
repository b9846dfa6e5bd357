from __future__ import annotations

from collections.abc import Iterator

import pytest

from paysaga.devstack.catalog import SERVICES
from tests.support.infra import Infra
from tests.support.platform import RunningPlatform, platform_env


@pytest.fixture(scope="session")
def platform(infra: Infra) -> Iterator[RunningPlatform]:
    running = RunningPlatform(env=platform_env(infra.admin_url, infra.bootstrap), logs=infra.root / "logs")
    try:
        for entry in SERVICES:
            running.start(entry)
        yield running
    finally:
        running.stop_all()
