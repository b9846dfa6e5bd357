"""Health probes of the supervised processes (see `supervisor.Probe`): each raises when the
process does not answer, and returns None when it is ready or what it is waiting for."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from confluent_kafka.admin import AdminClient

from paysaga.devstack.supervisor import Probe
from paysaga.platform.kafka import KafkaAccess


def postgres_probe(dsn: str, timeout: float = 3.0) -> Probe:
    """PostgreSQL accepts a connection and runs a query (not while it recovers from a crash)."""

    async def probe() -> str | None:
        conn = await asyncpg.connect(dsn, timeout=timeout)
        try:
            await conn.fetchval("SELECT 1", timeout=timeout)
        finally:
            await conn.close(timeout=timeout)
        return None

    return probe


def kafka_probe(kafka: KafkaAccess, timeout: float = 3.0) -> Probe:
    """The broker answers a metadata request and lists itself (a registered, unfenced broker:
    it serves its listener only once the controller has let it in).

    Each probe uses a client of its own: one client kept across a broker that was stopped mid
    SASL handshake and then killed was seen to stay unable to reach the broker's next
    incarnation for minutes (the supervisor then restarted a healthy broker, again and again)."""

    def list_brokers() -> int:
        admin = AdminClient(kafka.client_config(log_level=0))
        return len(admin.list_topics(timeout=timeout).brokers)

    async def probe() -> str | None:
        if not await asyncio.to_thread(list_brokers):
            raise RuntimeError("metadata lists no broker")
        return None

    return probe


class ProbeClient:
    """The HTTP client of one probed process, made at its first probe and kept: making one loads a TLS
    context, tens of ms of the supervisor's CPU, every probe of every process otherwise (it was half of
    the supervisor's idle CPU). A new connection each time (no keep-alive: a connection to a process
    that was killed must not fail the next probe)."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def get(self, url: str) -> httpx.Response:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, limits=httpx.Limits(max_keepalive_connections=0))
        return await self._client.get(url)


def service_probe(base_url: str, timeout: float = 5.0) -> Probe:
    """A service answers `/readyz`: 200 is ready; a 503 names the failing dependencies, so the
    service is alive and says what it waits for (restarting it would not bring them back)."""
    client = ProbeClient(timeout)

    async def probe() -> str | None:
        response = await client.get(f"{base_url}/readyz")
        if response.status_code == 200:
            return None
        if response.status_code == 503:
            checks = response.json().get("checks", {})
            failing = sorted(name for name, result in checks.items() if result != "ok")
            return "failing: " + ", ".join(failing) if failing else "not ready"
        raise RuntimeError(f"/readyz answered {response.status_code}")

    return probe


def zipkin_probe(url: str, timeout: float = 3.0) -> Probe:
    """Zipkin answers `GET /health` with 200 (its storage is up)."""

    client = ProbeClient(timeout)

    async def probe() -> str | None:
        response = await client.get(f"{url}/health")
        if response.status_code != 200:
            raise RuntimeError(f"/health answered {response.status_code}")
        return None

    return probe
