"""Feeding a simulation into the database as its clock passes, in small batches through the
writer: what a real source would do."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import tomli_w

from app.clock import Clock
from ingest.sim.center import Center, config, local, schedule
from ingest.sim.engine import Simulation
from ingest.writer import IngestResult, ingest

log = logging.getLogger(__name__)


def store(
    conn: psycopg.Connection[Any], events: list[dict[str, Any]], batch: int = 5000
) -> IngestResult:
    total = IngestResult()
    for i in range(0, len(events), batch):
        with conn.transaction():
            total.add(ingest(conn, events[i : i + batch]))
    return total


def feed(
    connect: Callable[[], psycopg.Connection[Any]],
    sim: Simulation,
    clock: Clock,
    *,
    stop: threading.Event,
    interval_s: float = 0.25,
) -> None:
    """Until `stop`: every `interval_s`, store what happened up to the clock's now."""
    with connect() as conn:
        while not stop.is_set():
            events = sim.advance(sim.sim_time(clock.now()))
            if events:
                result = store(conn, events)
                if result.rejected:
                    log.error("simulator events rejected: %s", result.errors[:3])
            stop.wait(interval_s)


def start_thread(
    connect: Callable[[], psycopg.Connection[Any]], sim: Simulation, clock: Clock
) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=feed,
        args=(connect, sim, clock),
        kwargs={"stop": stop},
        name="simulator",
        daemon=True,
    )
    thread.start()
    return thread, stop


def write_config(center: Center, day: date, path: Path) -> dict[str, Any]:
    """The center as callboard.toml, with the day's schedules (for adherence)."""
    body = config(center)
    body["schedules"] = schedule(center, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(body).encode())
    return body


def day_start(center: Center, day: date, hour: float = 7.0) -> datetime:
    return local(day, hour, center.timezone)


def jsonl(events: Iterable[dict[str, Any]]) -> Iterable[bytes]:
    import orjson

    for e in events:
        yield orjson.dumps(e) + b"\n"
