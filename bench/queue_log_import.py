"""`callboard import queue-log` of a generated queue_log: wall time and the importer's peak
memory, on a fresh database.

    .venv/bin/python bench/queue_log_import.py [--quick] [--lines 1000000] [--bulk | --no-bulk]

The log (tests/streams.py `queue_log_lines`: 200 agents, 10 queues, days of answered,
abandoned, overflowed and transferred calls, pauses) is written to a temporary file first; the
command runs as a process of its own against a fresh embedded PostgreSQL, and its resident
memory is sampled every 50 ms (the server's memory is not counted: it is another process).

Targets (issue 20): 1,000,000 lines in <= 60 s, peak RSS <= 500 MB."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_database
from bench.harness import ROOT, Run
from tests.streams import queue_log_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 lines")
    parser.add_argument("--lines", type=int, default=None, help="default 1,000,000")
    parser.add_argument(
        "--bulk", action=argparse.BooleanOptionalAction, default=None, help="default: the CLI's"
    )
    args = parser.parse_args()
    lines = args.lines or (100_000 if args.quick else 1_000_000)
    run = Run("queue_log_import", quick=args.quick)
    with migrated_database() as database:
        log = Path(database.folder) / "queue_log"
        with log.open("w") as f:
            f.writelines(queue_log_lines(lines=lines))
        size = log.stat().st_size
        print(f"{lines:,} lines, {size / 1e6:.1f} MB; uptime: {_uptime()}", flush=True)
        command = [str(Path(sys.executable).parent / "callboard"), "import", "queue-log"]
        command += [str(log), "--source", "pbx"]
        if args.bulk is not None:
            command.append("--bulk" if args.bulk else "--no-bulk")
        seconds, peak, code, cpu = _measure(command, {"DATABASE_URL": database.url})
        with psycopg.connect(database.libpq) as conn:
            counts = {t: _count(conn, t) for t in ("events", "contact_segments", "agent_states")}
    print(f"uptime: {_uptime()}")
    run.require("the import finished", code in (0, 1), f"exit code {code}")
    run.require("events stored", counts["events"] > lines // 2, f"{counts['events']:,} events")
    run.require(
        "derived rows made",
        counts["contact_segments"] > 0 and counts["agent_states"] > 0,
        f"{counts['contact_segments']:,} segments, {counts['agent_states']:,} agent states",
    )
    name = f"import queue-log, {lines:,} lines"
    run.figure(f"{name}: time", seconds, "s", target=60 * lines / 1_000_000)
    run.figure(f"{name}: peak RSS", peak / 2**20, "MB", target=500)
    run.figure(f"{name}: rate", lines / seconds, "lines/s", better="higher")
    run.figure(f"{name}: the importer's CPU time", cpu, "s", note="the database's not counted")
    run.finish()


def _measure(command: list[str], env: dict[str, str]) -> tuple[float, int, int, float]:
    """Wall seconds, peak resident bytes (sampled), exit code and CPU seconds (sampled: on a
    loaded machine the wall time says more about the others) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL)
    watched = psutil.Process(proc.pid)
    peak, cpu = 0, 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
            times = watched.cpu_times()
            cpu = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    return time.perf_counter() - start, peak, proc.wait(), cpu


def _count(conn: psycopg.Connection[object], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 (constant names)
    return int(row[0]) if row else 0


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
