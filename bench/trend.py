"""Trends of today by 15 minutes on a busy floor, read through the interval rollups: 200 queues /
5,000 agents (bench/tick.py's fill: 16,000 contacts an hour over 10 open hours a day, agent
state intervals of 15 minutes), from midnight to 17:00, the last bucket ending now; with 30
days of history and with 1 day, each in a database of its own, the rollups built by
`callboard rebuild`'s code (timed: the rebuild's cost and the rollup rows per day of history).

    .venv/bin/python bench/trend.py [--quick] [--days 30] [--repeats 20]
                                    [--agents 5000 --queues 200]

Targets (issue 26): one queue / one agent <= 20 ms, a team / the wall's 40 queues / the center
<= 50 ms with 30 days of history, and each within 1.3 x of the same with 1 day. `--quick`:
7 days of history against 1, 5 repeats.

Preconditions, in each database: the history rows exist; the rollups are built and current;
every case's groups have contacts today (q7, a77, t3, the 40 queues: a figure for a group
without rows measures nothing); and each trend is what is claimed: read through the rollups
(rollup_contacts, rollup_agent_time), in at most STATEMENTS statements, as many with 30 days as
with 1 (the rollups' state, the whole intervals summed, the time by state and the schedule of
the edges from rows, the team's agents, the agents now; before the rollups it was 410). A
floor too small for the cases (`--agents 25 --queues 2`) is the broken setup of tests/bench."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import CallboardConfig
from app.metrics.registry import Level
from app.metrics.trends import buckets, trends
from app.metrics.windows import local_midnight
from app.rollups import service
from bench.harness import Run
from bench.tick import AGENTS, NOW, OPEN_HOURS, QUEUES, filled, floor_config

STATEMENTS = 7  # at most, per trend: see the docstring

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


def contacts_in(bucket: dict[str, Any]) -> int:
    """Contacts a bucket's row counts: arrived in a queue (queues, the center) or answered."""
    return int(bucket.get("arrived") or 0) + int(bucket.get("answered") or 0)


def counted(conn: psycopg.Connection[Any]) -> list[str]:
    """The statements the connection's cursors execute from now on, as they are appended."""
    seen: list[str] = []

    class Counted(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
            text = query.as_string(self) if isinstance(query, sql.Composable) else query
            seen.append(text.decode() if isinstance(text, bytes) else str(text))
            return super().execute(query, params, **kw)

    conn.cursor_factory = Counted
    return seen


def measure(
    run: Run, config: CallboardConfig, days: int, repeats: int, *, queues: int, agents: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """Each case's median ms; the rebuild's seconds and rows, the contacts, each case's
    statements; on `days` of history."""
    start = local_midnight(NOW, config.defaults.timezone)
    with filled(config, days * OPEN_HOURS, queues=queues, agents=agents) as (conn, contacts):
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
        out: dict[str, float] = {}
        read: dict[str, int] = {}
        for name, by, keys, _ in CASES:

            def one(by: Level = by, keys: list[str] = keys) -> Any:
                return trends(conn, config, by=by, keys=keys, start=start, end=NOW, now=NOW)

            statements = counted(conn)
            rows = one()
            conn.cursor_factory = psycopg.Cursor
            run.require(
                f"{name}: {spans} buckets ({days} d)",
                all(len(r) == spans for r in rows.values()),
            )
            empty = sorted(k for k, r in rows.items() if not any(map(contacts_in, r)))
            run.require(
                f"{name}: every group has contacts today ({days} d)",
                not empty,
                f"none for {', '.join(empty[:5])}{' ...' if len(empty) > 5 else ''}"
                if empty
                else f"{len(rows)} group(s)",
            )
            rollups = sum("rollup_contacts" in q or "rollup_agent_time" in q for q in statements)
            run.require(
                f"{name}: read through the rollups in at most {STATEMENTS} statements ({days} d)",
                len(statements) <= STATEMENTS and rollups > 0,
                f"{len(statements)} statements, {rollups} of them over the rollups",
            )
            read[name] = len(statements)
            out[name] = timed(one, repeats)
            print(f"  {days:>2} d  {name:24} {out[name]:8.1f} ms  (uptime: {uptime()})", flush=True)
    rows = counts["rollup_contacts"] + counts["rollup_agent_time"]
    return out, {"seconds": rebuilt, "rows": rows, "contacts": contacts, "statements": read}


def uptime() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 days of history, 5 repeats")
    parser.add_argument("--days", type=int, default=None, help="days of history (default 30)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per figure (default 20)")
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--queues", type=int, default=QUEUES)
    args = parser.parse_args()
    days = args.days or (7 if args.quick else 30)
    repeats = args.repeats or (5 if args.quick else 20)
    floor = {"queues": args.queues, "agents": args.agents}
    resized = (args.agents, args.queues) != (AGENTS, QUEUES)  # recorded apart from the figures
    run = Run(f"trend-{args.agents}-{args.queues}" if resized else "trend", quick=args.quick)
    config = floor_config(args.agents)
    print(
        f"{args.queues} queues, {args.agents:,} agents; trends of today by 15 minutes to"
        f" {NOW:%H:%M}Z, {days} days of history against 1, median of {repeats}",
        flush=True,
    )
    one_day, small = measure(run, config, 1, repeats, **floor)
    many, large = measure(run, config, days, repeats, **floor)
    run.require(
        f"each trend read in as many statements with {days} d as with 1 d",
        large["statements"] == small["statements"],
        f"{list(large['statements'].values())} against {list(small['statements'].values())}",
    )
    for name, _, _, target in CASES:
        run.figure(f"{name}, {days} d of history", many[name], "ms", target=target)
    for name, _, _, _ in CASES:
        run.figure(f"{name}, 1 d of history", one_day[name], "ms")
    for name, _, _, _ in CASES:
        run.figure(f"{name}, {days} d / 1 d", many[name] / one_day[name], "x", target=1.3)
    per_day = large["rows"] / days
    run.figure(
        f"rollup rows per day of history ({args.agents:,} agents)",
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
