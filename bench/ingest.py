"""Ingest throughput: the writer (validation, idempotent insert, derived tables maintained, one
commit per batch) against a raw binary COPY of the same rows into a bare table, in one run.

    .venv/bin/python bench/ingest.py [--calls 30000] [--batch 5000]

Target (ARCHITECTURE.md): >= 20,000 events/s and >= 0.3 x raw COPY.
Uses a fresh embedded PostgreSQL (or DATABASE_URL's server, in a new database)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_dumps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import db, migrate
from ingest.contract import extras, validate_items
from ingest.writer import ingest
from tests.streams import day_of_events

BARE = """CREATE TABLE bare_events (source text, id text, ts timestamptz, type text, call_id text,
queue text, agent text, data jsonb, raw text)"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()

    events = day_of_events(calls=args.calls, agents=200, queues=10, seed=1, hours=10)
    events.sort(key=lambda e: e["ts"])  # a live feed arrives roughly in time order
    batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
    print(
        f"{len(events):,} events ({args.calls:,} contacts, 200 agents, 10 queues), "
        f"batches of {args.batch:,}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        server = db.EmbeddedServer(Path(tmp) / "pg")
        try:
            url = server.url.replace("postgresql+psycopg://", "postgresql://", 1)
            engine = db.make_engine(server.url)
            with engine.begin() as c:
                migrate.upgrade(c)
            engine.dispose()
            with psycopg.connect(url) as conn:
                writer_s = run_writer(conn, batches)
                copy_s, validate_s = run_copy(conn, batches)
        finally:
            server.close()

    n = len(events)
    w, c = n / writer_s, n / copy_s
    print(f"writer   {w:>10,.0f} events/s  ({writer_s:.2f} s; validation alone {validate_s:.2f} s)")
    print(f"raw COPY {c:>10,.0f} rows/s    ({copy_s:.2f} s; same rows, bare table, binary)")
    print(f"ratio    {w / c:>10.2f}      (target >= 0.30; writer target >= 20,000 events/s)")


def run_writer(conn: psycopg.Connection[Any], batches: list[list[dict[str, Any]]]) -> float:
    start = time.perf_counter()
    for batch in batches:
        with conn.transaction():
            result = ingest(conn, batch)
        assert result.rejected == 0 and result.inserted == len(batch), result
    return time.perf_counter() - start


def run_copy(
    conn: psycopg.Connection[Any], batches: list[list[dict[str, Any]]]
) -> tuple[float, float]:
    # Rows exactly as the writer stores them, prepared outside the timing.
    t0 = time.perf_counter()
    prepared = []
    for batch in batches:
        valid, _ = validate_items(batch)
        prepared.append(
            [
                (e.source, e.id, e.ts, e.type, e.call_id, e.queue, e.agent, extras(e), None)
                for _, e in valid
            ]
        )
    validate_s = time.perf_counter() - t0
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
    return time.perf_counter() - start, validate_s


if __name__ == "__main__":
    main()
