"""Ingest throughput: the writer (validation, idempotent insert, derived tables maintained, one
commit per batch) against a raw binary COPY of the same rows into a bare table, in one run, with
the writer's time split by stage.

    .venv/bin/python bench/ingest.py [--quick] [--calls 30000] [--batch 5000] [--duplicates 0]

Stages (ingest/writer.py): validation (contract models from the dicts, the rows made), staging
(the ingest lock, the caps on new names, the rows COPYed into the staging table), insert
(INSERT ... ON CONFLICT DO NOTHING RETURNING), derive (segments, feedback, agent states), the
change log (`live_changes`, written by the derived tables' statement triggers *within* derive:
shown apart, from PostgreSQL's own timing of the trigger functions), the rollups' maintenance
(ingest/rollups.py), commit.

The writer runs twice on the same events, each time into a new database: as a server runs
it, with the interval rollups built and so kept by every batch (stage "rollups"), and once
without them (never built: the writer's call returns at once), so what keeping them costs is
read in one run. The ratio to COPY that counts is the first.

Preconditions: the writer stored every event it was given, once, in both runs, rejecting none;
the COPY stored the same rows (the same (source, id) pairs as the writer's `events`). The
events given may be made broken on purpose with `--duplicates N` (N of them given twice, so the
writer stores fewer than it was given: the broken setup of tests/bench).

Target (issue 20): writer >= 0.30 x raw COPY of the same rows in the same run.
Uses a fresh embedded PostgreSQL (or DATABASE_URL's server, in a new database)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_dumps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import CallboardConfig
from bench.common import migrated_database
from bench.harness import Run
from ingest import rollups
from ingest.contract import extras, validate_items
from ingest.writer import Stages, ingest
from tests.streams import day_of_events

BARE = """CREATE TABLE bare_events (source text, id text, ts timestamptz, type text, call_id text,
queue text, agent text, data jsonb, raw text)"""
STAGES = ("validation", "staging", "insert", "derive", "change log", "rollups", "commit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 contacts")
    parser.add_argument("--calls", type=int, default=None, help="contacts (default 30,000)")
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--duplicates", type=int, default=0, help="events given twice")
    args = parser.parse_args()
    calls = args.calls or (10_000 if args.quick else 30_000)
    run = Run("ingest", quick=args.quick)

    events = day_of_events(calls=calls, agents=200, queues=10, seed=1, hours=10)
    events += events[: args.duplicates]
    events.sort(key=lambda e: e["ts"])  # a live feed arrives roughly in time order
    batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
    n = len(events)
    print(f"{n:,} events ({calls:,} contacts, 200 agents, 10 queues), batches of {args.batch:,}")
    print(f"uptime: {os.popen('uptime').read().strip()}", flush=True)

    with migrated_database() as plain, psycopg.connect(plain.libpq) as conn:
        bare_s, _, (bare_inserted, bare_rejected) = run_writer(conn, batches)
        copy_s, copied = run_copy(conn, batches)
        differ = differing(conn)
    with migrated_database() as kept, psycopg.connect(kept.libpq) as conn:
        # built (empty) for the default thresholds, as a server's start leaves them: kept from
        # now on by every batch
        rollups.rebuild(conn, rollups.thresholds_of(CallboardConfig().model_dump(mode="json")))
        conn.commit()
        writer_s, stages, (inserted, rejected) = run_writer(conn, batches)

    for label, stored, refused in (
        ("with rollups", inserted, rejected),
        ("without rollups", bare_inserted, bare_rejected),
    ):
        run.require(f"no event rejected by the writer, {label}", not refused, f"{refused:,}")
        run.require(
            f"every event stored once by the writer, {label}", stored == n, f"{stored:,} of {n:,}"
        )
    run.require("every row copied", copied == n, f"{copied:,} of {n:,}")
    run.require(
        "the COPY stored the writer's rows",
        differ == 0,
        f"{differ:,} (source, id) pairs in one table and not the other",
    )
    kept_s = stages.get("rollups", 0.0)
    run.require("the rollups were kept", kept_s > 0, f"{kept_s:.2f} s in that stage")
    w, bare, c = n / writer_s, n / bare_s, n / copy_s
    print(f"uptime: {os.popen('uptime').read().strip()}")
    run.figure("writer, rollups kept", w, "ev/s", note=f"{writer_s:.2f} s for {n:,} events")
    run.figure("writer, without rollups", bare, "ev/s", note=f"{bare_s:.2f} s")
    run.figure("raw binary COPY, same rows", c, "rows/s", note=f"{copy_s:.2f} s")
    run.figure("writer (rollups kept) / raw COPY", w / c, "x", target=0.30, better="higher")
    run.figure("writer without rollups / raw COPY", bare / c, "x")
    for stage in STAGES:
        share = stages.get(stage, 0.0)
        run.figure(f"stage: {stage}", share * 1e6 / n, "us/ev", note=f"{share:.2f} s")
    run.finish()


def run_writer(
    conn: psycopg.Connection[Any], batches: list[list[dict[str, Any]]]
) -> tuple[float, Stages, tuple[int, int]]:
    """Seconds, the time by stage, and (events inserted, events rejected)."""
    # PostgreSQL times the plpgsql trigger functions (the change log) itself.
    conn.execute("SET track_functions = 'pl'")
    before = change_log_ms(conn)
    stages = Stages()
    inserted = rejected = 0
    start = time.perf_counter()
    for batch in batches:
        with conn.transaction():
            result = ingest(conn, batch, stages=stages)
            if result.rejected:
                print(f"rejected by the writer: {result.errors[:3]}", file=sys.stderr)
            inserted += result.inserted
            rejected += result.rejected
            t0 = time.perf_counter()
        stages["commit"] = stages.get("commit", 0.0) + time.perf_counter() - t0
    total = time.perf_counter() - start
    stages["change log"] = (change_log_ms(conn) - before) / 1000
    stages["derive"] -= stages["change log"]  # the triggers ran inside derive's statements
    return total, stages, (inserted, rejected)


def differing(conn: psycopg.Connection[Any]) -> int:
    """(source, id) pairs in the writer's `events` and not in the COPY's table, or the reverse."""
    row = conn.execute(
        "SELECT count(*) FROM ((SELECT source, id FROM events EXCEPT SELECT source, id"
        " FROM bare_events) UNION ALL (SELECT source, id FROM bare_events EXCEPT"
        " SELECT source, id FROM events)) d"
    ).fetchone()
    conn.commit()
    return int(row[0]) if row else 0


def change_log_ms(conn: psycopg.Connection[Any]) -> float:
    """Milliseconds spent in the change log's trigger functions so far (all sessions)."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.commit()
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT coalesce(sum(self_time), 0) FROM pg_stat_user_functions"
        " WHERE funcname LIKE 'live\\_log\\_%'"
    ).fetchone()
    conn.commit()
    return float(row[0]) if row else 0.0


def run_copy(
    conn: psycopg.Connection[Any], batches: list[list[dict[str, Any]]]
) -> tuple[float, int]:
    # Rows exactly as the writer stores them, prepared outside the timing.
    prepared = []
    for batch in batches:
        valid, _ = validate_items(batch)
        prepared.append(
            [
                (e.source, e.id, e.ts, e.type, e.call_id, e.queue, e.agent, extras(e), None)
                for _, e in valid
            ]
        )
    set_json_dumps(orjson.dumps, conn)
    conn.execute(BARE)
    conn.commit()
    start = time.perf_counter()
    for rows in prepared:
        with (
            conn.transaction(),
            conn.cursor().copy("COPY bare_events FROM STDIN WITH (FORMAT BINARY)") as copy,
        ):
            copy.set_types(
                ["text", "text", "timestamptz", "text", "text", "text", "text", "jsonb", "text"]
            )
            for row in rows:
                copy.write_row(row)
    seconds = time.perf_counter() - start
    row = conn.execute("SELECT count(*) FROM bare_events").fetchone()
    return seconds, int(row[0]) if row else 0


if __name__ == "__main__":
    main()
