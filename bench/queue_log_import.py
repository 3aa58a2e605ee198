"""`callboard import queue-log` of a generated queue_log: wall time and the importer's peak
memory, on a fresh database.

    .venv/bin/python bench/queue_log_import.py [--quick] [--lines 1000000] [--bulk | --no-bulk]
                                               [--corrupt 0]

The log (tests/streams.py `queue_log_lines`: 200 agents, 10 queues, days of answered,
abandoned, overflowed and transferred calls, pauses) is written to a temporary file first; the
command runs as a process of its own against a fresh embedded PostgreSQL, and its resident
memory is sampled every 50 ms (the server's memory is not counted: it is another process).

Preconditions: the import finished and printed its summary; every line of the file is
accounted for (stored as an event's line, or kept in source_lines as skipped or rejected, each
reject with its position); most lines made events and the derived rows were made.
`--corrupt SHARE` garbles that share of the lines (every round(1 / SHARE)-th line; all of them
with 1): the importer rejects them, with their positions, and the bench says it could not
measure an import of a queue_log (the broken setup of tests/bench).

Targets (issue 20): 1,000,000 lines in <= 60 s, peak RSS <= 500 MB."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_database
from bench.harness import ROOT, Run
from ingest.sources.commit import KEEP_REJECTS
from tests.streams import queue_log_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 lines")
    parser.add_argument("--lines", type=int, default=None, help="default 1,000,000")
    parser.add_argument(
        "--bulk", action=argparse.BooleanOptionalAction, default=None, help="default: the CLI's"
    )
    parser.add_argument(
        "--corrupt", type=float, default=0.0, help="share of the lines garbled (0 to 1)"
    )
    args = parser.parse_args()
    lines = args.lines or (100_000 if args.quick else 1_000_000)
    run = Run("queue_log_import", quick=args.quick)
    with migrated_database() as database:
        log = Path(database.folder) / "queue_log"
        with log.open("w") as f:
            written = _write(f, queue_log_lines(lines=lines), args.corrupt)
        size = log.stat().st_size
        print(f"{lines:,} lines, {size / 1e6:.1f} MB; uptime: {_uptime()}", flush=True)
        command = [str(Path(sys.executable).parent / "callboard"), "import", "queue-log"]
        command += [str(log), "--source", "pbx"]
        if args.bulk is not None:
            command.append("--bulk" if args.bulk else "--no-bulk")
        printed = Path(database.folder) / "summary.json"
        with printed.open("w") as out:
            seconds, peak, code, cpu = _measure(command, {"DATABASE_URL": database.url}, out)
        with psycopg.connect(database.libpq) as conn:
            counts = {t: _count(conn, t) for t in ("events", "contact_segments", "agent_states")}
            accounted = _accounted(conn, "pbx")
        summary = _summary(printed)
    print(f"uptime: {_uptime()}")
    run.require("the import finished", code in (0, 1), f"exit code {code}")
    run.require("the importer printed its summary", summary is not None, f"exit code {code}")
    assert summary is not None
    rejected = int(summary.get("rejected") or 0)
    listed = summary.get("errors") or []
    positioned = sum(1 for e in listed if e.get("position"))
    run.require(
        "every line of the file stored, skipped or rejected",
        accounted == written,
        f"{accounted:,} of {written:,} lines",
    )
    run.require(
        "every rejected line given with its position",
        positioned == len(listed) == min(rejected, KEEP_REJECTS),
        f"{rejected:,} rejected, {positioned:,} listed with theirs",
    )
    run.require(
        "events stored", counts["events"] > lines // 2, f"{counts['events']:,} from {lines:,} lines"
    )
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


def _write(f: TextIO, lines: Iterator[str], corrupt: float) -> int:
    """Write the lines, every (1 / corrupt)-th one garbled; how many lines hold something."""
    every = round(1 / corrupt) if corrupt > 0 else 0
    n = 0
    for i, line in enumerate(lines):
        if every and i % every == 0:
            line = f"garbled line {i}\n"
        f.write(line)
        n += bool(line.strip())
    return n


def _accounted(conn: psycopg.Connection[Any], source: str) -> int:
    """Lines of the file the database accounts for: the lines events were made from (an event
    keeps its line; a line may make several), and the lines kept as skipped or rejected."""
    row = conn.execute(
        "SELECT (SELECT count(DISTINCT raw) FROM events WHERE source = %(s)s)"
        " + (SELECT count(*) FROM source_lines WHERE source = %(s)s)",
        {"s": source},
    ).fetchone()
    return int(row[0]) if row else 0


def _summary(printed: Path) -> dict[str, Any] | None:
    """The summary the importer prints on stdout (one JSON object), or None."""
    try:
        found = json.loads(printed.read_text().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return found if isinstance(found, dict) else None


def _measure(command: list[str], env: dict[str, str], out: TextIO) -> tuple[float, int, int, float]:
    """Wall seconds, peak resident bytes (sampled), exit code and CPU seconds (sampled: on a
    loaded machine the wall time says more about the others) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, stdout=out)
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
