"""The raw events table and its offsets: exactly once, whatever is delivered again."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from paysaga.contracts.topics import CUSTOMER_EVENTS, PAYMENT_EVENTS
from paysaga.services.dwh import store as store_module
from paysaga.services.dwh.store import DwhStore, DwhUnavailable, RawRecord
from tests.unit.services.dwh.factory import FakeLog, customer, saga

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> DwhStore:
    return DwhStore(tmp_path / "dwh" / "test.duckdb", lock_wait_seconds=5)


def raw(offset: int, partition: int = 0, topic: str = PAYMENT_EVENTS) -> RawRecord:
    value = orjson.dumps({"paymentId": f"p-{partition}-{offset}"})
    headers = [("ce_id", f"id-{topic}-{partition}-{offset}".encode()), ("ce_type", b"PaymentInitiated")]
    return RawRecord(topic, partition, offset, f"k{offset}".encode(), value, headers, 1_700_000_000_000)


def stored_positions(store: DwhStore) -> list[tuple[str, int, int]]:
    return store.fetch('SELECT topic, "partition", "offset" FROM raw_events ORDER BY ALL')


def test_a_batch_is_stored_with_the_next_offset_of_each_partition(store: DwhStore) -> None:
    result = store.ingest([raw(0), raw(1), raw(0, partition=1), raw(0, topic=CUSTOMER_EVENTS)])

    assert result.inserted == 4 and result.skipped == 0
    assert store.stored_offsets() == {(PAYMENT_EVENTS, 0): 2, (PAYMENT_EVENTS, 1): 1, (CUSTOMER_EVENTS, 0): 1}
    assert store.topic_counts() == {PAYMENT_EVENTS: 3, CUSTOMER_EVENTS: 1}


def test_redelivered_offsets_are_stored_once_and_offsets_never_go_back(store: DwhStore) -> None:
    store.ingest([raw(o) for o in range(5)])

    overlap = store.ingest([raw(o) for o in range(3, 8)])  # 3 and 4 again, as after a crash before a commit
    again = store.ingest([raw(o) for o in range(5)])  # a whole old batch again

    assert (overlap.inserted, overlap.skipped) == (3, 2)
    assert (again.inserted, again.skipped) == (0, 5)
    assert stored_positions(store) == [(PAYMENT_EVENTS, 0, o) for o in range(8)]
    assert store.stored_offsets() == {(PAYMENT_EVENTS, 0): 8}


def test_the_same_offset_twice_in_one_batch_is_stored_once(store: DwhStore) -> None:
    result = store.ingest([raw(0), raw(1), raw(1), raw(0)])

    assert result.inserted == 2
    assert stored_positions(store) == [(PAYMENT_EVENTS, 0, 0), (PAYMENT_EVENTS, 0, 1)]


def test_the_primary_key_keeps_rows_unique_even_if_the_offsets_were_lost(store: DwhStore) -> None:
    store.ingest([raw(o) for o in range(4)])
    with duckdb.connect(str(store.path)) as con:
        con.execute("DELETE FROM kafka_offsets")

    store.ingest([raw(o) for o in range(6)])

    assert stored_positions(store) == [(PAYMENT_EVENTS, 0, o) for o in range(6)]
    assert store.stored_offsets() == {(PAYMENT_EVENTS, 0): 6}


def test_rows_and_offsets_roll_back_together(store: DwhStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.ingest([raw(0), raw(1)])

    def crash(name: str) -> None:
        if name == "dwh.store.before_commit":
            raise RuntimeError("crash between the inserts and the commit")

    monkeypatch.setattr(store_module, "failpoint", crash)
    with pytest.raises(RuntimeError):
        store.ingest([raw(2), raw(3), raw(0, partition=1)])

    assert stored_positions(store) == [(PAYMENT_EVENTS, 0, 0), (PAYMENT_EVENTS, 0, 1)]
    assert store.stored_offsets() == {(PAYMENT_EVENTS, 0): 2}

    monkeypatch.undo()
    result = store.ingest([raw(2), raw(3), raw(0, partition=1)])  # read again from the stored offsets
    assert result.inserted == 3
    assert store.stored_offsets() == {(PAYMENT_EVENTS, 0): 4, (PAYMENT_EVENTS, 1): 1}


def test_raw_columns_keep_the_record_as_it_was(store: DwhStore) -> None:
    log = FakeLog()
    event = saga("COMPLETED", T0).events[0]
    records = [
        log.append(event),
        RawRecord(PAYMENT_EVENTS, 2, 7, None, b"\xffnot json", [("x-custom", b"1"), ("empty", None)], None),
        RawRecord(PAYMENT_EVENTS, 2, 8, b"gone", None, [], None),  # a tombstone
    ]
    store.ingest(records)

    rows = store.fetch_dicts(
        'SELECT key, payload, payload_text, headers, ce_id, ce_type, ce_source, ce_time, kafka_timestamp, "offset" '
        'FROM raw_events ORDER BY "partition", "offset"'
    )
    first = next(r for r in rows if r["ce_id"] == event.ce_id)
    assert first["key"] == event.key
    assert orjson.loads(first["payload"]) == orjson.loads(event.value)
    assert first["payload_text"] is None
    assert orjson.loads(first["headers"]) == {k: v.decode() for k, v in event.headers}
    assert (first["ce_type"], first["ce_source"]) == ("PaymentInitiated", "/paysaga/wallet")
    assert first["ce_time"] == datetime(2025, 3, 1, 9, 0)  # UTC
    assert first["kafka_timestamp"] is not None

    garbage, tombstone = (r for r in rows if r["ce_id"] is None)
    assert garbage["payload"] is None and garbage["payload_text"].endswith("not json")
    assert orjson.loads(garbage["headers"]) == {"x-custom": "1", "empty": ""}
    assert garbage["key"] is None
    assert tombstone["payload"] is None and tombstone["payload_text"] is None and tombstone["key"] == "gone"


def test_customer_events_are_stored_too(store: DwhStore) -> None:
    log = FakeLog()
    store.ingest(log.append_all([customer(T0), customer(T0)]))

    assert store.summary().customers == 2


@contextlib.contextmanager
def held(path: Path) -> Iterator[Callable[[], None]]:
    """Another process holds the file until `release()` is called (or the block ends)."""
    holder = subprocess.Popen(  # holds the file until told to let go (a line on its stdin)
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " sys.stdin.readline(); c.close(); print('released', flush=True)",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdin is not None and holder.stdout is not None
    stdin, stdout = holder.stdin, holder.stdout

    def release() -> None:
        stdin.write(b"go\n")
        stdin.flush()
        assert stdout.readline().strip() == b"released"

    try:
        assert stdout.readline().strip() == b"held"
        yield release
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)


def test_a_file_held_by_another_process_is_waited_for(store: DwhStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.initialize()
    with held(store.path) as release:
        impatient = DwhStore(store.path, lock_wait_seconds=0.2)
        with pytest.raises(DwhUnavailable, match="held by another process"):
            impatient.ingest([raw(0)])

        refused = threading.Event()
        connect = duckdb.connect

        def observed_connect(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
            try:
                return connect(*args, **kwargs)
            except duckdb.IOException:
                refused.set()
                raise

        monkeypatch.setattr(store_module.duckdb, "connect", observed_connect)
        patient = DwhStore(store.path, lock_wait_seconds=120)
        outcome: list[object] = []
        waiting = threading.Thread(target=lambda: outcome.append(patient.ingest([raw(0)])))
        waiting.start()
        assert refused.wait(60), "the ingest never tried the held file"
        assert waiting.is_alive() and outcome == []  # refused once, still waiting: not failed, not done

        release()
        waiting.join(120)
        assert not waiting.is_alive()
    [result] = outcome  # the ingest went through once the other process let go
    assert isinstance(result, store_module.IngestResult) and result.inserted == 1
    assert store.topic_counts() == {PAYMENT_EVENTS: 1}


def test_the_readiness_ping_counts_a_recent_open_and_otherwise_opens_the_file(store: DwhStore) -> None:
    store.initialize()  # opened just now
    never_opened = DwhStore(store.path, lock_wait_seconds=0.2)
    with held(store.path):
        store.ping(lock_wait_seconds=0.2, fresh_seconds=60)  # opened within the minute: not opened again
        with pytest.raises(DwhUnavailable, match="held by another process"):
            store.ping(lock_wait_seconds=0.2)  # no freshness allowed: it opens, and finds the file held
        with pytest.raises(DwhUnavailable, match="held by another process"):
            never_opened.ping(lock_wait_seconds=0.2, fresh_seconds=60)  # nothing recent to count
    store.ping()  # let go: it opens again


def test_a_read_only_store_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(DwhUnavailable, match="no DWH database"):
        DwhStore(tmp_path / "missing.duckdb", read_only=True).summary()


def test_a_key_that_is_not_utf8_is_stored_losslessly(store: DwhStore) -> None:
    records = [
        RawRecord(PAYMENT_EVENTS, 0, 0, b"\xff\xfe", b"{}"),
        RawRecord(PAYMENT_EVENTS, 0, 1, b"\xfe\xff", b"{}"),  # another key that must not read as the first
        RawRecord(PAYMENT_EVENTS, 0, 2, "p-ключ".encode(), b"{}"),
    ]

    result = store.ingest(records)

    assert result.inserted == 3
    keys = [k for (k,) in store.fetch('SELECT key FROM raw_events ORDER BY "offset"')]
    assert keys == ["\\xff\\xfe", "\\xfe\\xff", "p-ключ"]
