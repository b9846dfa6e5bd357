from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from paysaga.devstack.catalog import SERVICES
from paysaga.devstack.zipkin import ZipkinServer
from tests.support import zipkin as zipkin_process
from tests.support.infra import Infra
from tests.support.platform import RunningPlatform, platform_env, platform_kafka_env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def web_apps_built() -> None:
    """The browser apps the services serve (web/*/dist), built if stale, as `make run` does."""
    subprocess.run([str(REPO / "scripts" / "web-apps.sh"), "build"], check=True, timeout=900)


@pytest.fixture(scope="session")
def zipkin(infra: Infra) -> Iterator[ZipkinServer]:
    """The session's Zipkin, started in the background: the tests that read traces wait for it."""
    server, proc = zipkin_process.start_zipkin(infra.root / "logs")
    try:
        yield server
    finally:
        zipkin_process.stop(proc)


# Package scope: the platform stops when the end-to-end tests are done, so its consumers do not
# share databases and topics with the integration tests that run after them.
@pytest.fixture(scope="package")
def platform(infra: Infra, zipkin: ZipkinServer) -> Iterator[RunningPlatform]:
    running = RunningPlatform(
        env=platform_env(infra.admin_url, infra.bootstrap, infra.root, zipkin_url=zipkin.url),
        logs=infra.root / "logs",
        kafka_env=platform_kafka_env(infra.bootstrap, infra.root),
    )
    try:
        for entry in SERVICES:
            running.start(entry)
        yield running
    finally:
        running.stop_all()
