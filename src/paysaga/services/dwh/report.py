"""`paysaga dwh report`: the summary as text, and charts as PNG files, from the DuckDB file.

Reads the file read-only (waiting for a running DWH service to finish its batch), then draws
without holding it. Charts are drawn with matplotlib's object API on the Agg canvas: no display,
no global pyplot state.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson

from paysaga.services.dwh.schemas import Summary
from paysaga.services.dwh.store import Bucket, DwhStore, VolumeRow, read_durations, read_summary, read_volumes

VOLUME_CHART = "volume_success_rate.png"
DURATION_CHART = "saga_durations.png"
SUMMARY_TEXT = "summary.txt"
SUMMARY_JSON = "summary.json"

HOURLY_BELOW = timedelta(days=2)


def choose_bucket(summary: Summary) -> Bucket:
    """Days, or hours when the payments span less than two days."""
    first, last = summary.first_payment_at, summary.last_payment_at
    if first is None or last is None or last - first < HOURLY_BELOW:
        return "hour"
    return "day"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def format_summary(summary: Summary, volumes: list[VolumeRow], bucket: Bucket) -> str:
    p = summary.payments
    lines = ["PaySaga DWH report", ""]
    lines.append("Events stored (raw records / distinct events):")
    lines += [f"  {t.topic:<20} {t.records:>8} / {t.events}" for t in summary.topics]
    if summary.event_types:
        lines.append("  by type: " + ", ".join(f"{k} {v}" for k, v in summary.event_types.items()))
    lines += [
        "",
        f"Customers created: {summary.customers}",
        f"Payments: {p.total} (completed {p.completed}, failed {p.failed}, pending {p.pending}); "
        f"success rate {_pct(p.success_rate)}",
    ]
    if summary.first_payment_at and summary.last_payment_at:
        lines.append(
            f"  initiated from {summary.first_payment_at:%Y-%m-%d %H:%M} "
            f"to {summary.last_payment_at:%Y-%m-%d %H:%M} UTC"
        )
    for v in summary.volumes:
        lines.append(
            f"  {v.currency}: {v.payments} payments, {v.amount} initiated, {v.completed_amount} paid out (minor units)"
        )
    d = summary.durations
    lines += [
        "",
        f"Saga duration (initiated -> final) over {d.finished} finished payments: "
        f"p50 {_ms(d.p50_ms)}, p95 {_ms(d.p95_ms)}, avg {_ms(d.avg_ms)}, max {_ms(d.max_ms)}",
        "",
        "Failure reasons:",
    ]
    lines += [f"  {r.error_code:<20} {r.failures:>6}  {_pct(r.share)}" for r in summary.failure_reasons] or ["  none"]
    lines += ["", f"Volumes per {bucket} (UTC):"]
    fmt = "%Y-%m-%d" if bucket == "day" else "%Y-%m-%d %H:00"
    for row in volumes:
        lines.append(
            f"  {row.bucket:{fmt}}  {row.currency or '?':<4} {row.payments:>6} payments  {row.amount:>14} "
            f"completed {row.completed:>5}  failed {row.failed:>5}  pending {row.pending:>5}  "
            f"success {_pct(row.success_rate)}"
        )
    if not volumes:
        lines.append("  no payments yet")
    if summary.last_ingested_at:
        lines += ["", f"Last ingest: {summary.last_ingested_at:%Y-%m-%d %H:%M:%S} UTC"]
    return "\n".join(lines) + "\n"


def _volume_chart(volumes: list[VolumeRow], bucket: Bucket, path: Path) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 7), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    width = timedelta(days=0.8) if bucket == "day" else timedelta(hours=0.8)
    buckets = sorted({r.bucket for r in volumes})
    if not buckets:
        top.text(0.5, 0.5, "no payments yet", ha="center", va="center", transform=top.transAxes)
    else:
        completed = [sum(r.completed for r in volumes if r.bucket == b) for b in buckets]
        failed = [sum(r.failed for r in volumes if r.bucket == b) for b in buckets]
        pending = [sum(r.pending for r in volumes if r.bucket == b) for b in buckets]
        top.bar(buckets, completed, width=width, color="#2e7d32", label="completed")
        top.bar(buckets, failed, width=width, bottom=completed, color="#c62828", label="failed")
        top.bar(
            buckets,
            pending,
            width=width,
            bottom=[c + f for c, f in zip(completed, failed, strict=True)],
            color="#9e9e9e",
            label="pending",
        )
        rate_axis = top.twinx()
        rates = [c / (c + f) * 100 if c + f else None for c, f in zip(completed, failed, strict=True)]
        rate_axis.plot(
            [b for b, r in zip(buckets, rates, strict=True) if r is not None],
            [r for r in rates if r is not None],
            color="#1565c0",
            marker="o",
            label="success rate",
        )
        rate_axis.set_ylim(0, 105)
        rate_axis.set_ylabel("success rate, %")
        handles, labels = top.get_legend_handles_labels()
        h2, l2 = rate_axis.get_legend_handles_labels()
        top.legend(handles + h2, labels + l2, loc="upper left", fontsize="small")
        for i, currency in enumerate(sorted({r.currency or "?" for r in volumes})):
            rows = [r for r in volumes if (r.currency or "?") == currency]
            at = [r.bucket for r in rows]
            bottom.plot(at, [r.amount for r in rows], color=f"C{i}", marker="o", label=f"{currency} initiated")
            bottom.plot(
                at,
                [r.completed_amount for r in rows],
                color=f"C{i}",
                marker=".",
                linestyle="--",
                label=f"{currency} paid out",
            )
        bottom.legend(loc="upper left", fontsize="small")
        locator = AutoDateLocator()
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    top.set_title(f"Payments per {bucket} (UTC) and success rate")
    top.set_ylabel("payments")
    bottom.set_title("Volume (minor units)")
    bottom.set_ylabel("amount")
    fig.savefig(path, format="png", dpi=100)


def _duration_chart(durations: list[tuple[str, int]], path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5), layout="constrained")
    ax = fig.subplots()
    if not durations:
        ax.text(0.5, 0.5, "no finished payments yet", ha="center", va="center", transform=ax.transAxes)
    else:
        seconds = {s: [ms / 1000 for st, ms in durations if st == s] for s in ("COMPLETED", "FAILED")}
        ax.hist(
            [seconds["COMPLETED"], seconds["FAILED"]],
            bins=30,
            stacked=True,
            color=["#2e7d32", "#c62828"],
            label=[f"completed ({len(seconds['COMPLETED'])})", f"failed ({len(seconds['FAILED'])})"],
        )
        ax.legend(fontsize="small")
    ax.set_title("Saga duration: PaymentInitiated to the final event")
    ax.set_xlabel("seconds")
    ax.set_ylabel("payments")
    fig.savefig(path, format="png", dpi=100)


def write_report(
    db_path: Path | str, out_dir: Path | str, *, echo: bool = True, lock_wait_seconds: float = 30.0
) -> str:
    """Print the summary, and write it (text and JSON) with the charts into `out_dir`; returns the text."""
    store = DwhStore(db_path, read_only=True, lock_wait_seconds=lock_wait_seconds)
    with store.connect() as con:  # one state of the file; released before drawing
        summary = read_summary(con)
        bucket = choose_bucket(summary)
        volumes = read_volumes(con, bucket)
        durations = read_durations(con)
    text = format_summary(summary, volumes, bucket)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / SUMMARY_TEXT).write_text(text)
    (out / SUMMARY_JSON).write_bytes(orjson.dumps(summary.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
    _volume_chart(volumes, bucket, out / VOLUME_CHART)
    _duration_chart(durations, out / DURATION_CHART)
    if echo:
        print(text, end="")
    return text
