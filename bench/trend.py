"""A trend of one queue for a day by 15 minutes on a busy floor's data, in one statement: the
drill-down's trend (GET /api/v1/trends, /sup) for 200 queues / 5,000 agents with 30 days of
history (bench/tick.py's fill: 16,000 contacts an hour over 10 open hours a day, agent state
intervals of 15 minutes), from midnight to 17:00, the last bucket ending now.

    .venv/bin/python bench/trend.py [--days 30] [--repeats 20] [--old]

Target (issue 11): one statement, <= 50 ms. Also shown: the wall's 40 queues at once, a team,
an agent and the center by the same statement, and (--old) the per-bucket computation it
replaced, once."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import CallboardConfig
from app.metrics.registry import Level
from app.metrics.service import compute
from app.metrics.trends import buckets, trends
from app.metrics.windows import local_midnight
from bench.tick import AGENTS, NOW, OPEN_HOURS, QUEUES, filled, floor_config

STEP = timedelta(minutes=15)


class Counted:
    """Counts the statements psycopg sends (every execute of every cursor)."""

    def __init__(self) -> None:
        self.n = 0
        self._execute = psycopg.Cursor.execute

    def __enter__(self) -> Counted:
        counter, execute = self, self._execute

        def counting(cur: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
            counter.n += 1
            return execute(cur, *args, **kwargs)

        psycopg.Cursor.execute = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Cursor.execute = self._execute  # type: ignore[method-assign]


def timed(run: Callable[[], object], repeats: int) -> tuple[float, int]:
    """Median seconds of `repeats` runs (after one to warm the cache) and the statements of
    one run."""
    run()
    with Counted() as counted:
        run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), counted.n


def old_trend(
    conn: psycopg.Connection[Any], config: CallboardConfig, by: Level, key: str, start: datetime
) -> list[dict[str, Any]]:
    """Before: the full computation once per bucket."""
    return [
        compute(conn, config, by=by, now=NOW, start=t, end=upper, only=key)["rows"][0]
        for t, upper in buckets(start, NOW, NOW, STEP)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--old", action="store_true", help="also time the per-bucket trend once")
    args = parser.parse_args()
    config = floor_config()
    start = local_midnight(NOW, config.defaults.timezone)
    hours = args.days * OPEN_HOURS
    print(
        f"{QUEUES} queues, {AGENTS:,} agents, {args.days} days of history; trend of today"
        f" ({start:%H:%M}Z to {NOW:%H:%M}Z, {len(buckets(start, NOW, NOW, STEP))} buckets of"
        f" 15 minutes), median of {args.repeats}",
        flush=True,
    )
    with filled(config, hours) as (conn, _):

        def trend(by: Level, keys: list[str]) -> Callable[[], object]:
            return lambda: trends(conn, config, by=by, keys=keys, start=start, end=NOW, now=NOW)

        cases: list[tuple[str, Level, list[str]]] = [
            ("one queue", "queue", ["q7"]),
            ("the wall's 40 queues", "queue", [f"q{i}" for i in range(40)]),
            ("one team (25 agents)", "team", ["t3"]),
            ("one agent", "agent", ["a77"]),
            ("the center", "center", ["center"]),
        ]
        for name, by, keys in cases:
            seconds, n = timed(trend(by, keys), args.repeats)
            print(
                f"  {name:24} {seconds * 1000:8.1f} ms  {n} statement(s)"
                f"  (load average {os.getloadavg()[0]:.2f})",
                flush=True,
            )
        if args.old:
            with Counted() as counted:
                t0 = time.perf_counter()
                old_trend(conn, config, "queue", "q7", start)
                seconds = time.perf_counter() - t0
            print(
                f"  {'one queue, per bucket':24} {seconds * 1000:8.1f} ms"
                f"  {counted.n} statements (once; the computation it replaces)",
                flush=True,
            )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (target: <= 50 ms)")


if __name__ == "__main__":
    main()
