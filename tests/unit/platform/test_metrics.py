"""The shared instrumentation: `/metrics` on every app, request durations labelled by route template (never
the path), and per-partition consumer lag read from librdkafka's statistics."""

from __future__ import annotations

import uuid

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from paysaga.platform.http import create_app
from paysaga.platform.metrics import CONSUMER_LAG, ConsumerLag, configure_metrics

pytestmark = pytest.mark.unit


def _app():  # type: ignore[no-untyped-def]
    app = create_app(title="t", description="t")

    @app.get("/v1/users/{user_id}/wallet")
    async def wallet(user_id: str) -> dict[str, str]:
        return {"userId": user_id}

    return app


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


async def test_metrics_are_served_without_credentials_and_routes_are_labelled_by_template() -> None:
    configure_metrics("unit-test-service")
    user = str(uuid.uuid4())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test") as client:
        assert (await client.get(f"/v1/users/{user}/wallet")).status_code == 200
        assert (await client.get(f"/nowhere/{user}")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts = {
        (labels["route"], labels["status"]): value
        for labels, value in _samples(response.text, "paysaga_http_server_request_duration_seconds_count")
        if labels["service"] == "unit-test-service"
    }
    assert counts[("/v1/users/{user_id}/wallet", "200")] >= 1
    assert counts[("unmatched", "404")] >= 1
    assert counts[("/openapi.json", "200")] >= 1  # FastAPI's own pages by their (fixed) path
    assert counts[("/metrics", "200")] >= 1
    assert user not in response.text  # no path, no id: only templates


async def test_metrics_is_not_in_the_openapi_document() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test") as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/metrics" not in paths


def _partition(partition: int, **offsets: object) -> dict[str, object]:
    base: dict[str, object] = {
        "partition": partition,
        "fetch_state": "active",
        "hi_offset": -1001,
        "lo_offset": -1001,
        "stored_offset": -1001,
        "committed_offset": -1001,
        "next_offset": -1001,
    }
    return {**base, **offsets}


def _stats(**partitions: dict[str, object]) -> dict[str, object]:
    return {"topics": {"payment-events": {"partitions": partitions}}}


def test_lag_is_the_high_watermark_less_the_next_offset_to_apply() -> None:
    stats = _stats(
        **{
            "0": _partition(0, hi_offset=120, stored_offset=100, committed_offset=90),  # stored: applied so far
            "1": _partition(1, hi_offset=50, committed_offset=50),  # nothing stored since start: committed
            "2": _partition(2, hi_offset=7, next_offset=0, lo_offset=0),  # nothing applied ever
            "3": _partition(3, fetch_state="none", hi_offset=9, committed_offset=1),  # not ours
            "4": _partition(4),  # no high watermark yet
            "-1": _partition(-1, hi_offset=5, committed_offset=0),  # librdkafka's internal partition
        }
    )
    assert ConsumerLag.lags(stats) == {
        ("payment-events", "0"): 20,
        ("payment-events", "1"): 0,
        ("payment-events", "2"): 7,
    }


def _lag_series(group: str) -> dict[tuple[str, str], float]:
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for f in CONSUMER_LAG.collect()
        for s in f.samples
        if s.labels["group"] == group
    }


def test_a_partition_no_longer_fetched_loses_its_series_and_clear_removes_them_all() -> None:
    group = f"unit-{uuid.uuid4()}"
    lag = ConsumerLag(group)
    both = _stats(
        **{"0": _partition(0, hi_offset=10, stored_offset=4), "1": _partition(1, hi_offset=3, stored_offset=3)}
    )
    lag.on_statistics(orjson.dumps(both).decode())
    assert _lag_series(group) == {("payment-events", "0"): 6, ("payment-events", "1"): 0}
    lag.on_statistics(orjson.dumps(_stats(**{"0": _partition(0, hi_offset=10, stored_offset=10)})).decode())
    assert _lag_series(group) == {("payment-events", "0"): 0}
    lag.on_statistics("not json")  # logged, nothing changes
    assert _lag_series(group) == {("payment-events", "0"): 0}
    lag.clear()
    assert _lag_series(group) == {}
