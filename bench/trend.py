"""Trends of today by 15 minutes on a busy floor, read through the interval rollups: 200 queues /
5,000 agents (bench/tick.py's fill: 16,000 contacts an hour over 10 open hours a day, agent
state intervals of 15 minutes), from midnight to 17:00, the last bucket ending now; with 30
days of history and with 1 day, each in a database of its own, the rollups built by
`callboard rebuild`'s code (timed: the rebuild's cost and the rollup rows per day of history).

    .venv/bin/python bench/trend.py [--quick] [--days 30] [--repeats 20]

Targets (issue 26): one queue / one agent <= 20 ms, a team / the wall's 40 queues / the center
<= 50 ms with 30 days of history, and each within 1.3 x of the same with 1 day. `--quick`:
7 days of history against 1, 5 repeats."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import CallboardConfig
from app.metrics.registry import Level
from app.metrics.trends import buckets, trends
from app.metrics.windows import local_midnight
from app.rollups import service
from bench.harness import Run
from bench.tick import AGENTS, NOW, OPEN_HOURS, QUEUES, filled, floor_config

CASES: list[tuple[str, Level, list[str], float]] = [
    ("one queue", "queue", ["q7"], 20),
    ("one agent", "agent", ["a77"], 20),
    ("a team (25 agents)", "team", ["t3"], 50),
    ("the wall's 40 queues", "queue", [f"q{i}" for i in range(40)], 50),
    ("the center", "center", ["center"], 50),
]


def timed(run: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of `repeats` runs, after one to warm the cache."""
    run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def measure(
    run: Run, config: CallboardConfig, days: int, repeats: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each case's median ms, and the rebuild's seconds and rows, on `days` of history."""
    start = local_midnight(NOW, config.defaults.timezone)
    with filled(config, days * OPEN_HOURS) as (conn, contacts):
        run.require(f"{days} day(s) of history filled", contacts > 0, f"{contacts:,} contacts")
        t0 = time.perf_counter()
        with conn.transaction():
            counts = service.rebuild(conn, config)
        rebuilt = time.perf_counter() - t0
        conn.execute("VACUUM ANALYZE rollup_contacts")
        conn.execute("VACUUM ANALYZE rollup_agent_time")
        run.require(
            f"rollups built and read ({days} d)",
            service.is_current(conn, config) and counts["rollup_contacts"] > 0,
            f"{counts['rollup_contacts']:,} contact rows,"
            f" {counts['rollup_agent_time']:,} time rows",
        )
        print(f"  rebuilt in {rebuilt:.1f} s: {counts}  (uptime: {uptime()})", flush=True)
        spans = len(buckets(start, NOW, NOW))
        out = {}
        for name, by, keys, _ in CASES:

            def one(by: Level = by, keys: list[str] = keys) -> Any:
                return trends(conn, config, by=by, keys=keys, start=start, end=NOW, now=NOW)

            rows = one()
            run.require(
                f"{name}: {spans} buckets ({days} d)",
                all(len(r) == spans for r in rows.values()),
            )
            out[name] = timed(one, repeats)
            print(f"  {days:>2} d  {name:24} {out[name]:8.1f} ms  (uptime: {uptime()})", flush=True)
    rows = counts["rollup_contacts"] + counts["rollup_agent_time"]
    return out, {"seconds": rebuilt, "rows": rows, "contacts": contacts}


def uptime() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 days of history, 5 repeats")
    parser.add_argument("--days", type=int, default=None, help="days of history (default 30)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per figure (default 20)")
    args = parser.parse_args()
    days = args.days or (7 if args.quick else 30)
    repeats = args.repeats or (5 if args.quick else 20)
    run = Run("trend", quick=args.quick)
    config = floor_config()
    print(
        f"{QUEUES} queues, {AGENTS:,} agents; trends of today by 15 minutes to {NOW:%H:%M}Z,"
        f" {days} days of history against 1, median of {repeats}",
        flush=True,
    )
    one_day, _ = measure(run, config, 1, repeats)
    many, large = measure(run, config, days, repeats)
    for name, _, _, target in CASES:
        run.figure(f"{name}, {days} d of history", many[name], "ms", target=target)
    for name, _, _, _ in CASES:
        run.figure(f"{name}, 1 d of history", one_day[name], "ms")
    for name, _, _, _ in CASES:
        run.figure(f"{name}, {days} d / 1 d", many[name] / one_day[name], "x", target=1.3)
    per_day = large["rows"] / days
    run.figure(
        "rollup rows per day of history (5,000 agents)",
        per_day,
        "rows",
        note=f"{per_day * 365 / 1e6:.1f} M rows a year",
    )
    run.figure(
        "rebuild per day of history",
        large["seconds"] / days,
        "s",
        note=f"{large['seconds']:.0f} s for {days} d ({large['contacts']:,} contacts);"
        f" a year: about {large['seconds'] / days * 365 / 60:.0f} min",
    )
    run.finish()


if __name__ == "__main__":
    main()
