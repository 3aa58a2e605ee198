"""The queues report of a month on a busy floor: 200 queues by 30-minute intervals (rows by time
of day, the previous month beside it), read through the 15-minute rollups in one statement
(app/reports/history.py), on bench/tick.py's fill (16,000 contacts an hour over 10 open hours a
day), the rollups built by `callboard rebuild`'s code. Also the same report read from the rows
(the rollups set aside), for the ratio.

    .venv/bin/python bench/reports.py [--quick] [--days 30] [--repeats 5] [--hours H]

Target (issue 21): a month of 200 queues by 30-minute intervals <= 2 s. `--quick`: 7 days.

Preconditions: the history is filled, every day of the report holds contacts, the rollups are
built and current, the report has a row per queue and half hour and its rows carry the
contacts (answered ones). `--hours` fills fewer hours than the report's days (default: all of
them and NOW's day, 10 open hours each): the report's days then hold nothing, the broken setup
of tests/bench."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.reports import history
from app.reports.service import Days, build
from app.rollups import service
from bench.harness import Run
from bench.tick import NOW, QUEUES, filled, floor_config


def timed(run: Callable[[], object], repeats: int) -> float:
    """Median seconds of `repeats` runs, after one to warm the cache."""
    run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def uptime() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 days, 3 repeats")
    parser.add_argument("--days", type=int, default=None, help="days in the report (default 30)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per figure (default 5)")
    parser.add_argument("--hours", type=int, default=None, help="history filled (default: all)")
    args = parser.parse_args()
    days = args.days or (7 if args.quick else 30)
    repeats = args.repeats or (3 if args.quick else 5)
    run = Run("reports", quick=args.quick)
    config = floor_config()
    last = (NOW - timedelta(days=1)).date()  # the days before NOW's, whole
    span = Days(last - timedelta(days=days - 1), last)
    print(
        f"{QUEUES} queues; the queues report of {span.first} .. {span.last} by 30 min", flush=True
    )
    # the report's days, and a day after them (NOW's): the fill ends at NOW
    hours = args.hours if args.hours is not None else (days + 1) * 10
    with filled(config, hours) as (conn, contacts):
        run.require("history filled", contacts > 0, f"{contacts:,} contacts")
        zone = config.defaults.timezone
        row = conn.execute(
            "SELECT count(DISTINCT (queued_at AT TIME ZONE %(tz)s)::date) FROM contact_segments"
            " WHERE (queued_at AT TIME ZONE %(tz)s)::date BETWEEN %(first)s AND %(last)s",
            {"tz": zone, "first": span.first, "last": span.last},
        ).fetchone()
        filled_days = row[0] if row else 0
        run.require(
            "every day of the report filled",
            filled_days == days,
            f"{filled_days} of {days} days hold contacts",
        )
        with conn.transaction():
            counts = service.rebuild(conn, config)
        conn.execute("VACUUM ANALYZE rollup_contacts")
        conn.execute("VACUUM ANALYZE rollup_agent_time")
        run.require(
            "rollups built and current",
            service.is_current(conn, config) and counts["rollup_contacts"] > 0,
            f"{counts['rollup_contacts']:,} contact rows",
        )

        def report() -> dict[str, object]:
            return build(conn, config, name="queues", days=span, by="queue", interval=30, now=NOW)

        found = report()
        rows = found["rows"]
        assert isinstance(rows, list)
        answered = sum(r["answered"] or 0 for r in rows)
        run.require(
            "a row per queue and half hour",
            len(rows) == QUEUES * 48,
            f"{len(rows):,} rows, {answered:,} answered",
        )
        run.require("the report's rows carry the contacts", answered > 0, f"{answered:,} answered")
        with_rollups = timed(report, repeats)
        print(f"  rollups: {with_rollups * 1000:8.0f} ms  (uptime: {uptime()})", flush=True)
        # the rollups alone: without the longest wait and time by reason read from rows (what a
        # range longer than history.EXTRAS_FROM_ROWS reads)
        kept = history.EXTRAS_FROM_ROWS
        history.EXTRAS_FROM_ROWS = 0
        try:
            rollups_only = timed(report, repeats)
        finally:
            history.EXTRAS_FROM_ROWS = kept
        print(f"  rollups only: {rollups_only * 1000:8.0f} ms  (uptime: {uptime()})", flush=True)
        if args.quick:  # the rows' reading of a week takes minutes on a loaded machine
            from_rows = None
        # the same from rows: the rollups' state marked stale for the length of the run
        else:
            original = history.is_current
            history.is_current = lambda conn, config: False  # type: ignore[assignment]
            try:
                from_rows = timed(report, 1)
            finally:
                history.is_current = original
            print(f"  rows:    {from_rows * 1000:8.0f} ms  (uptime: {uptime()})", flush=True)
    run.figure(
        f"queues report, {QUEUES} queues, {days} d by 30 min (rollups)",
        with_rollups,
        "s",
        target=2.0 if days >= 30 else None,
        note=f"{len(rows):,} rows; load {uptime()}",
    )
    run.figure(
        f"the same without the extras read from rows (longest wait, away by reason), {days} d",
        rollups_only,
        "s",
        target=2.0,
    )
    if from_rows is not None:
        run.figure(f"the same from rows, {days} d", from_rows, "s", note=f"{contacts:,} contacts")
        run.figure("rows / rollups", from_rows / with_rollups, "x", better="higher")
    run.finish()


if __name__ == "__main__":
    main()
