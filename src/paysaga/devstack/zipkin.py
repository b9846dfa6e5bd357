"""Zipkin, the trace backend, run from its executable jar on Maven Central (`io.zipkin:zipkin-server`,
classifier `exec`) with the machine's Java: in-memory storage, on the loopback only, a modest heap.

Its UI is `<url>/zipkin/`, its API `<url>/api/v2/...`; services post their spans to `<url>/api/v2/spans`.
Every setting is passed on the command line, which outranks the environment: Zipkin would otherwise read
variables of ours with its own meaning (`QUERY_PORT` is its port, `KAFKA_BOOTSTRAP_SERVERS` turns on its
Kafka collector).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx

from paysaga.devstack.maven import copy_dependencies

FILES = Path(__file__).parent / "zipkin_files"
DEFAULT_PORT = 9411
_UNUSED_COLLECTORS = ("grpc", "kafka", "rabbitmq", "activemq", "pulsar", "scribe")


def ensure_jar(libs_dir: Path) -> bool:
    """Resolve the Zipkin server's jar with Maven once; True if it downloaded now."""
    return copy_dependencies(FILES / "pom.xml", libs_dir)


@dataclass
class ZipkinServer:
    libs_dir: Path
    port: int = DEFAULT_PORT
    heap: str = "256m"
    # The oldest traces are dropped past this (~1,100 payments): a span takes ~3.5 KB of heap in Zipkin,
    # so 256 MiB hold 30,000 with room to spare (at 50,000 it collects garbage without end, then dies).
    max_spans: int = 30_000

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jar(self) -> Path:
        jars = sorted(self.libs_dir.glob("zipkin-server-*-exec.jar"))
        if not jars:
            raise FileNotFoundError(f"no Zipkin server jar in {self.libs_dir} (ensure_jar resolves it)")
        return jars[-1]

    def command(self) -> list[str]:
        return [
            "java",
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",  # one collector thread: a small heap, and the CPU stays with the platform
            "-XX:TieredStopAtLevel=1",  # C1 only: starts in ~half the time; the peak speed is not needed here
            "-XX:+ExitOnOutOfMemoryError",
            "-jar",
            str(self.jar),
            f"--armeria.ports[0].port={self.port}",
            "--armeria.ports[0].ip=127.0.0.1",
            "--armeria.ports[0].protocols[0]=http",
            "--zipkin.storage.type=mem",
            f"--zipkin.storage.mem.max-spans={self.max_spans}",
            "--zipkin.query.enabled=true",
            "--zipkin.ui.enabled=true",
            "--zipkin.self-tracing.enabled=false",
            *(f"--zipkin.collector.{c}.enabled=false" for c in _UNUSED_COLLECTORS),  # the HTTP one stays
            "--zipkin.discovery.eureka.enabled=false",
            "--spring.main.banner-mode=off",
            "--logging.level.io.micrometer=ERROR",  # a warning about its own metrics at every start
        ]


async def wait_for_zipkin(url: str, timeout: float = 90.0) -> None:
    """Until Zipkin answers `GET /health` with 200."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                raise TimeoutError(f"Zipkin at {url} did not answer in {timeout} s")
            await asyncio.sleep(0.3)
