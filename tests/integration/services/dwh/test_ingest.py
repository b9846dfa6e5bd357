"""The DWH against the real broker: after a restart of its consumer in the middle of a run (a
graceful stop, a `kill -9`, a crash inside the DuckDB transaction), DuckDB holds every record
of the topics exactly once, and the views and the report are right."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from PIL import Image

from paysaga.services.dwh.ingest import IngestWorker
from paysaga.services.dwh.report import DURATION_CHART, VOLUME_CHART, write_report
from paysaga.services.dwh.store import DwhStore, IngestResult, RawRecord
from tests.integration.services.dwh.helpers import (
    assert_matches_the_topics,
    assert_sagas,
    eventually,
    produce,
    stored_of,
    wave,
)
from tests.support.identity import TEST_KEYS
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


class StopOnFirstOf(DwhStore):
    """Stops its worker right after the first batch that holds one of the given events: the
    worker is then stopped in the middle of that wave, deterministically."""

    def __init__(self, path: Path, ce_ids: set[str]) -> None:
        super().__init__(path)
        self.ce_ids = ce_ids
        self.worker: IngestWorker | None = None

    def ingest(self, records: Sequence[RawRecord]) -> IngestResult:
        result = super().ingest(records)
        if self.worker is not None and any(
            (dict(r.headers).get("ce_id") or b"").decode() in self.ce_ids for r in records
        ):
            self.worker.stop()
        return result


# Small batches stop the first worker in the middle of a wave; a worker that catches up takes big
# ones: it reads every topic from its beginning, i.e. every record the suite's earlier tests produced
# (over 10,000 late in the suite: in batches of 5, more than the minute the test waits).
STOPPING_BATCH, CATCH_UP_BATCH = 5, 500


def new_worker(store: DwhStore, infra: Infra, group: str, *, batch_size: int) -> IngestWorker:
    return IngestWorker(
        store,
        kafka=infra.kafka,
        group_id=group,
        batch_size=batch_size,
        poll_timeout_seconds=0.1,
        session_timeout_ms=6000,
    )


async def test_counts_match_the_topics_after_a_restart_in_the_middle_of_a_run(infra: Infra, tmp_path: Path) -> None:
    (first_sagas, first), (second_sagas, second), (third_sagas, third) = wave(6), wave(10), wave(6)
    await asyncio.to_thread(produce, infra.kafka, first + second)
    store = StopOnFirstOf(tmp_path / "dwh.duckdb", {e.ce_id for e in second})
    group = f"dwh-it-{uuid.uuid4()}"

    store.worker = new_worker(store, infra, group, batch_size=STOPPING_BATCH)
    await asyncio.wait_for(store.worker.run(), 120)  # ends by itself, in the middle of the second wave

    stopped_with = stored_of(store, second)
    assert 0 < stopped_with < len(second)
    await asyncio.to_thread(produce, infra.kafka, third)  # more work arrives while it is down

    store.worker = None
    restarted = new_worker(store, infra, group, batch_size=CATCH_UP_BATCH)
    running = asyncio.create_task(restarted.run())
    try:
        await asyncio.to_thread(assert_matches_the_topics, store, infra.kafka)
    finally:
        restarted.stop()
        await asyncio.wait_for(running, 30)

    for events in (first, second, third):
        assert stored_of(store, events) == len(events)
    assert_sagas(store, first_sagas + second_sagas + third_sagas)


# -- the service process: kill -9, a crash inside the transaction, a report of the live file ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DwhProcess:
    def __init__(self, infra: Infra, db: Path, logs: Path) -> None:
        self.port = free_port()
        self.logs = logs
        self.env = {
            **os.environ,
            **TEST_KEYS.environment(),  # prod mode: the callers' public keys are set
            **infra.kafka.environment(),
            "PAYSAGA_LOG_FORMAT": "json",
            "DWH_PORT": str(self.port),
            "DWH_DATABASE_PATH": str(db),
            "DWH_CONSUMER_GROUP": f"dwh-proc-{uuid.uuid4()}",
            "DWH_BATCH_SIZE": str(CATCH_UP_BATCH),  # a batch holds what came within the poll timeout
            "DWH_POLL_TIMEOUT_SECONDS": "0.1",
            "DWH_SESSION_TIMEOUT_MS": "6000",
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"dwh-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "paysaga.services.dwh.main"],
            env={**self.env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5, auth=TEST_KEYS.auth("dwh"))

    def wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        def ready() -> bool:
            assert proc.poll() is None, "the DWH process died"
            try:
                return self.get("/readyz").status_code == 200
            except httpx.TransportError:
                return False

        eventually(ready, timeout=30, what="DWH /readyz")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def dwh(infra: Infra, tmp_path: Path) -> Iterator[DwhProcess]:
    logs = infra.root / "logs" / "dwh-tests"
    logs.mkdir(parents=True, exist_ok=True)
    process = DwhProcess(infra, tmp_path / "dwh.duckdb", logs)
    yield process
    process.stop_all()


def assert_png(path: Path) -> None:
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG"


def test_the_service_survives_kill_and_a_crash_inside_its_transaction(
    infra: Infra, dwh: DwhProcess, tmp_path: Path
) -> None:
    reader = DwhStore(tmp_path / "dwh.duckdb", read_only=True, lock_wait_seconds=30)
    (first_sagas, first), (second_sagas, second), (third_sagas, third) = wave(6), wave(12), wave(6)
    produce(infra.kafka, first)

    # 1. Running; killed with -9 while the second wave is still being published.
    one = dwh.start()
    dwh.wait_ready(one)
    eventually(lambda: reader.path.exists() and stored_of(reader, first) == len(first), what="first wave")
    publishing = threading.Thread(target=produce, args=(infra.kafka, second), kwargs={"pause": 0.05})
    publishing.start()  # the second wave, slowly
    eventually(lambda: stored_of(reader, second) >= 3, what="part of the second wave")
    one.send_signal(signal.SIGKILL)
    assert one.wait(10) == -signal.SIGKILL
    publishing.join(60)
    produce(infra.kafka, third)
    before_crash = reader.fetch("SELECT count(*) FROM raw_events")[0][0]
    offsets_before_crash = reader.stored_offsets()

    # 2. Restarted, and crashed inside its first transaction: rows inserted, never committed.
    two = dwh.start(PAYSAGA_FAILPOINTS="dwh.store.before_commit")
    assert two.wait(90) == 137
    assert reader.fetch("SELECT count(*) FROM raw_events")[0][0] == before_crash
    assert reader.stored_offsets() == offsets_before_crash

    # 3. Restarted again: catches up, every record exactly once.
    three = dwh.start()
    dwh.wait_ready(three)
    counts = assert_matches_the_topics(reader, infra.kafka, timeout=90)
    for events in (first, second, third):
        assert stored_of(reader, events) == len(events)
    assert_sagas(reader, first_sagas + second_sagas + third_sagas)

    summary = dwh.get("/v1/summary")
    assert summary.status_code == 200
    records = {t["topic"]: t["records"] for t in summary.json()["topics"]}
    assert all(records[topic] >= n for topic, n in counts.items())
    assert summary.json()["payments"]["total"] >= len(first_sagas + second_sagas + third_sagas)

    # The report reads the live file between two batches of the running service.
    text = write_report(reader.path, tmp_path / "report", echo=False)
    assert "payment-events" in text and "Saga duration" in text and "PROVIDER_DECLINED" in text
    assert_png(tmp_path / "report" / VOLUME_CHART)
    assert_png(tmp_path / "report" / DURATION_CHART)

    three.send_signal(signal.SIGTERM)
    assert three.wait(30) == 0
