"""`paysaga dwh ...`: the DWH's command line (`report`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paysaga.services.dwh.settings import DwhSettings


def main(argv: list[str] | None = None) -> int:
    settings = DwhSettings()
    parser = argparse.ArgumentParser(prog="paysaga dwh", description="The analytics store (DuckDB).")
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser(
        "report", help="print the summary and write charts (volume and success rate, saga durations)"
    )
    report.add_argument(
        "--db", type=Path, default=settings.database_file, help="the DuckDB file (default: DWH_DATABASE_PATH)"
    )
    report.add_argument(
        "--out", type=Path, default=settings.report_folder, help="the report folder (default: DWH_REPORT_DIR)"
    )
    args = parser.parse_args(argv)

    if args.command == "report":
        from paysaga.services.dwh.report import write_report
        from paysaga.services.dwh.store import DwhUnavailable

        try:
            write_report(args.db, args.out, lock_wait_seconds=settings.lock_wait_seconds)
        except DwhUnavailable as exc:
            print(f"paysaga dwh report: {exc}", file=sys.stderr)
            return 1
        print(f"\nReport written to {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
