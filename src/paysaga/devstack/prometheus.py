"""The local Prometheus server: Debian's `prometheus` binary run by the supervisor with a configuration
generated into the state folder (every service's `/metrics` as a job of its own, every 5 s), its TSDB
next to it, and the alert rules kept in the repository (`prometheus_files/alerts.yaml`). The Debian package's own
service and `/etc/prometheus` play no part."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from paysaga.devstack.catalog import SERVICES
from paysaga.devstack.probes import ProbeClient
from paysaga.devstack.supervisor import Probe

DEFAULT_PROMETHEUS_PORT = 9090
ALERT_RULES = Path(__file__).parent / "prometheus_files" / "alerts.yaml"
SCRAPE_INTERVAL = "5s"
RETENTION = "7d"


def prometheus_binary() -> str | None:
    """`PAYSAGA_PROMETHEUS_BIN`, else `prometheus` on the PATH (Debian: /usr/bin/prometheus)."""
    return os.environ.get("PAYSAGA_PROMETHEUS_BIN") or shutil.which("prometheus")


def port_taken(port: int) -> bool:
    """Something listens on 127.0.0.1:`port` already (Debian's own prometheus service, say)."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def service_targets(
    port_of: Callable[[str], int], own_ports: Mapping[str, list[int]] | None = None
) -> dict[str, list[str]]:
    """Every service of the catalog, by name, at its HTTP port (the one that serves `/metrics`); a service
    that runs several instances at each instance's own port (`own_ports`): one target per instance."""
    own_ports = own_ports or {}
    return {s.name: [f"127.0.0.1:{p}" for p in own_ports.get(s.name) or [port_of(s.name)]] for s in SERVICES}


def scrape_config(
    targets: Mapping[str, list[str]], *, rule_files: tuple[Path, ...] = (ALERT_RULES,)
) -> dict[str, object]:
    """The configuration: one job per service (`job` is the service's name), scraped at `host:port/metrics`."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {"job_name": job, "metrics_path": "/metrics", "static_configs": [{"targets": list(addresses)}]}
            for job, addresses in targets.items()
        ],
    }


@dataclass(frozen=True)
class PrometheusServer:
    """One Prometheus process: `write_config()`, then run `command()` (the caller supervises it)."""

    root: Path  # <state>/prometheus: prometheus.yml and data/
    port: int
    targets: Mapping[str, list[str]]  # job (service name) → host:port of each instance's /metrics
    binary: str = "prometheus"

    @property
    def config_file(self) -> Path:
        return self.root / "prometheus.yml"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        """Write the configuration anew (ports may have changed since the last run); the TSDB is kept."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(yaml.safe_dump(scrape_config(self.targets), sort_keys=False))
        return self.config_file

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={RETENTION}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]


def prometheus_probe(base_url: str, timeout: float = 3.0) -> Probe:
    """Prometheus answers `/-/ready`: 200 once it serves queries; 503 while it replays its WAL."""

    client = ProbeClient(timeout)

    async def probe() -> str | None:
        response = await client.get(f"{base_url}/-/ready")
        if response.status_code == 200:
            return None
        if response.status_code == 503:
            return "starting (replaying its write-ahead log)"
        raise RuntimeError(f"/-/ready answered {response.status_code}")

    return probe
