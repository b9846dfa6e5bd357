"""The DWH's HTTP API and settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from paysaga.services.dwh.app import build_app, duckdb_check
from paysaga.services.dwh.settings import DwhSettings
from paysaga.services.dwh.store import DwhStore
from tests.support.identity import TEST_KEYS
from tests.unit.services.dwh.factory import FakeLog, saga

pytestmark = pytest.mark.unit


async def kafka_down() -> None:
    raise ConnectionError("broker unreachable")


async def kafka_up() -> None:
    return None


def client(store: DwhStore, kafka_ok: bool = True) -> httpx.AsyncClient:
    app = build_app(store, readiness={"duckdb": duckdb_check(store), "kafka": kafka_up if kafka_ok else kafka_down})
    TEST_KEYS.protect(app, "dwh")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dwh", auth=TEST_KEYS.auth("dwh"))


async def test_summary_endpoint_returns_the_headline_numbers(tmp_path: Path) -> None:
    store = DwhStore(tmp_path / "dwh.duckdb")
    store.ingest(FakeLog().append_all(saga("COMPLETED", datetime(2025, 3, 1, tzinfo=UTC)).events))

    async with client(store) as http:
        response = await http.get("/v1/summary")

    assert response.status_code == 200
    body = response.json()
    assert body["payments"] == {"total": 1, "completed": 1, "failed": 0, "pending": 0, "successRate": 1.0}
    assert {t["topic"]: t["records"] for t in body["topics"]}["payment-events"] == 2
    assert body["durations"]["p50Ms"] == 1700.0


async def test_readiness_checks_duckdb_and_kafka(tmp_path: Path) -> None:
    store = DwhStore(tmp_path / "dwh.duckdb")
    async with client(store) as http:
        ready = await http.get("/readyz")
        assert (await http.get("/healthz")).status_code == 200
    async with client(store, kafka_ok=False) as http:
        not_ready = await http.get("/readyz")

    assert ready.status_code == 200 and ready.json()["checks"] == {"duckdb": "ok", "kafka": "ok"}
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["kafka"].startswith("failing")


def test_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYSAGA_STATE_DIR", raising=False)
    defaults = DwhSettings()
    assert defaults.port == 8010 and defaults.consumer_group == "dwh"
    assert defaults.database_file == Path(".local/dwh/paysaga.duckdb")

    monkeypatch.setenv("PAYSAGA_STATE_DIR", "/srv/paysaga")
    monkeypatch.setenv("DWH_PORT", "9010")
    monkeypatch.setenv("DWH_BATCH_SIZE", "50")
    custom = DwhSettings()
    assert custom.database_file == Path("/srv/paysaga/dwh/paysaga.duckdb")
    assert custom.report_folder == Path("/srv/paysaga/dwh/report")
    assert (custom.port, custom.batch_size) == (9010, 50)
