"""Feeding a simulation into the database as its clock passes, in small batches through the
one committer of every source (`ingest.sources.commit`): what a real source does."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import tomli_w
from pydantic import ValidationError

from app.clock import Clock
from ingest.contract import describe, event_adapter
from ingest.sim.center import Center, config, local, schedule
from ingest.sim.engine import Simulation
from ingest.sources.base import Item, Rejected
from ingest.sources.commit import Committer, Summary

SOURCE = "simulator"  # the health row's name; the events keep their own `source`

log = logging.getLogger(__name__)


def items(events: Iterable[dict[str, Any]]) -> Iterable[Item]:
    """The simulator's events as contract models (a bad one would be a reject, by index)."""
    for i, e in enumerate(events):
        try:
            yield event_adapter.validate_python(e)
        except ValidationError as exc:
            yield Rejected(f"event {i + 1} ({e.get('id')})", describe(exc))


def store(
    conn: psycopg.Connection[Any], events: list[dict[str, Any]], batch: int = 5000
) -> Summary:
    return Committer(conn, SOURCE, batch=batch).run(items(events))


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
                    log.error("simulator events rejected: %s", result.rejects[:3])
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
