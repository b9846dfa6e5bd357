"""The Prometheus of the local platform: its alert rules pass their `promtool test rules` unit tests, and
the configuration `paysaga run` generates passes `promtool check config` and scrapes every service."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from paysaga.devstack.catalog import SERVICES
from paysaga.devstack.prometheus import ALERT_RULES, PrometheusServer, service_targets

pytestmark = pytest.mark.integration

RULES_TEST = Path(__file__).parent / "prometheus_rules_test.yaml"


def promtool(*args: str, cwd: Path | None = None) -> str:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/system-deps.sh installs Debian's prometheus package"
    result = subprocess.run([binary, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_alert_rules_are_valid() -> None:
    assert "SUCCESS: 7 rules found" in promtool("check", "rules", str(ALERT_RULES))


def test_the_alert_rules_pass_their_unit_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", RULES_TEST.name, cwd=RULES_TEST.parent)


def test_every_alert_rule_has_a_unit_test() -> None:
    rules = {r["alert"] for g in yaml.safe_load(ALERT_RULES.read_text())["groups"] for r in g["rules"]}
    tested = {
        t["alertname"] for case in yaml.safe_load(RULES_TEST.read_text())["tests"] for t in case["alert_rule_test"]
    }
    assert rules == tested


def test_the_generated_configuration_is_valid_and_scrapes_every_service(tmp_path: Path) -> None:
    server = PrometheusServer(tmp_path / "prometheus", 9090, service_targets(lambda name: 18000 + len(name)))
    promtool("check", "config", str(server.write_config()))
    config = yaml.safe_load(server.config_file.read_text())
    assert config["global"]["scrape_interval"] == "5s"
    assert config["rule_files"] == [str(ALERT_RULES)]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert sorted(jobs) == sorted(s.name for s in SERVICES)
    assert jobs["bff"]["static_configs"] == [{"targets": ["127.0.0.1:18003"]}]
    scaled = service_targets(lambda name: 8002, {"wallet": [8102, 8202]})
    assert scaled["wallet"] == ["127.0.0.1:8102", "127.0.0.1:8202"] and scaled["query"] == ["127.0.0.1:8002"]
    assert all(job["metrics_path"] == "/metrics" for job in jobs.values())
    assert f"--storage.tsdb.path={tmp_path / 'prometheus' / 'data'}" in server.command()
    assert "--web.listen-address=127.0.0.1:9090" in server.command()
