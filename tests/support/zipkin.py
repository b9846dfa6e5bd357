"""The test session's Zipkin (own port: 9411 + the test port offset), and reading traces from its API."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from paysaga.devstack.paths import zipkin_libs_dir
from paysaga.devstack.supervisor import die_with_parent
from paysaga.devstack.zipkin import DEFAULT_PORT, ZipkinServer
from tests.support.platform import TEST_PORT_OFFSET

TEST_ZIPKIN_PORT = DEFAULT_PORT + TEST_PORT_OFFSET

Span = dict[str, Any]


def start_zipkin(logs: Path) -> tuple[ZipkinServer, subprocess.Popen[bytes]]:
    """Start Zipkin without waiting for it (its JVM takes ~5-10 s; the services start meanwhile and
    their first exports may fail, which costs nothing but a log line). The jar was resolved with Kafka's."""
    server = ZipkinServer(zipkin_libs_dir(), port=TEST_ZIPKIN_PORT)
    logs.mkdir(parents=True, exist_ok=True)
    out = (logs / "zipkin.log").open("wb")
    proc = subprocess.Popen(
        server.command(), stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent, start_new_session=True
    )
    return server, proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_healthy(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"Zipkin at {url} was not healthy after {timeout} s"
        time.sleep(0.2)


def wait_for_trace(
    url: str, trace_id: str, complete: Callable[[list[Span]], bool], timeout: float = 30.0
) -> list[Span]:
    """The spans of a trace (`GET /api/v2/trace/{id}`) once `complete` says all have arrived (the
    services send them in batches, some after the payment is final)."""
    deadline = time.monotonic() + timeout
    spans: list[Span] = []
    while True:
        response = httpx.get(f"{url}/api/v2/trace/{trace_id}", timeout=5)
        if response.status_code == 200:
            spans = response.json()
            if complete(spans):
                return spans
        if time.monotonic() > deadline:
            services = sorted({s.get("localEndpoint", {}).get("serviceName", "?") for s in spans})
            raise AssertionError(f"trace {trace_id} incomplete after {timeout} s: {len(spans)} spans from {services}")
        time.sleep(0.25)
