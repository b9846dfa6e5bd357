"""`write_report` and `paysaga dwh report`: the summary text and valid PNG charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from PIL import Image

from paysaga.services.dwh import report
from paysaga.services.dwh.cli import main
from paysaga.services.dwh.store import DwhStore
from tests.unit.services.dwh.factory import FakeLog, Outcome, saga

pytestmark = pytest.mark.unit

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def fill(db: Path, starts: list[datetime]) -> None:
    outcomes: tuple[Outcome, ...] = ("COMPLETED", "COMPLETED", "DECLINED", "FRAUD", "PENDING")
    sagas = [saga(outcomes[i % len(outcomes)], at, final_after_ms=500 + 250 * i) for i, at in enumerate(starts)]
    DwhStore(db).ingest(FakeLog().append_all([e for s in sagas for e in s.events]))


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] >= 600 and image.size[1] >= 300


def test_the_report_prints_the_summary_and_writes_the_charts(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "dwh.duckdb"
    fill(db, [START + timedelta(hours=6 * i) for i in range(20)])  # five days

    text = report.write_report(db, tmp_path / "out")

    assert capsys.readouterr().out == text
    assert "Payments: 20 (completed 8, failed 8, pending 4); success rate 50.0%" in text
    assert "Volumes per day (UTC):" in text and "2025-03-05" in text
    assert "FRAUD_SUSPECTED" in text and "PROVIDER_DECLINED" in text
    assert_png(tmp_path / "out" / report.VOLUME_CHART)
    assert_png(tmp_path / "out" / report.DURATION_CHART)
    assert (tmp_path / "out" / report.SUMMARY_TEXT).read_text() == text
    assert orjson.loads((tmp_path / "out" / report.SUMMARY_JSON).read_bytes())["payments"]["total"] == 20


def test_a_short_run_is_reported_per_hour(tmp_path: Path) -> None:
    db = tmp_path / "dwh.duckdb"
    fill(db, [START + timedelta(minutes=20 * i) for i in range(10)])

    text = report.write_report(db, tmp_path / "out", echo=False)

    assert "Volumes per hour (UTC):" in text
    assert "2025-03-01 09:00" in text and "2025-03-01 11:00" in text
    assert_png(tmp_path / "out" / report.VOLUME_CHART)


def test_an_empty_store_still_gives_a_report(tmp_path: Path) -> None:
    db = tmp_path / "dwh.duckdb"
    DwhStore(db).initialize()

    text = report.write_report(db, tmp_path / "out", echo=False)

    assert "Payments: 0" in text and "no payments yet" in text
    assert_png(tmp_path / "out" / report.VOLUME_CHART)
    assert_png(tmp_path / "out" / report.DURATION_CHART)


def test_cli_report(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "dwh.duckdb"
    fill(db, [START + timedelta(hours=i) for i in range(5)])

    assert main(["report", "--db", str(db), "--out", str(tmp_path / "r")]) == 0

    out = capsys.readouterr().out
    assert "Payments: 5" in out and f"Report written to {(tmp_path / 'r').resolve()}" in out
    assert_png(tmp_path / "r" / report.VOLUME_CHART)


def test_cli_report_on_a_missing_database_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "--db", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path / "r")]) == 1

    assert "no DWH database at" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_cli_defaults_come_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "env.duckdb"
    fill(db, [START])
    monkeypatch.setenv("DWH_DATABASE_PATH", str(db))
    monkeypatch.setenv("DWH_REPORT_DIR", str(tmp_path / "env-report"))

    assert main(["report"]) == 0

    assert_png(tmp_path / "env-report" / report.DURATION_CHART)
