"""Ingest over HTTP on a real `callboard serve`, against the writer's own rate, and a backlog
draining while the live screens keep up:

1. writer: the stream of bench/ingest.py written in-process, batches of 5,000 (the reference);
2. HTTP: the same stream POSTed to /api/v1/events by 4 concurrent clients, batches of 5,000
   (a fresh database): events/s and the ratio to the writer (target >= 0.5);
3. backlog: `--backlog` events (days of a 200-agent floor) POSTed as fast as the 4 clients
   can, while every 0.5 s a fresh event (a call queued in a queue of its own) is POSTed and the
   websocket frame that shows it awaited (target: event -> frame p99 <= 2 s), and /healthz is
   asked every 0.1 s from another connection (target: worst <= 1 s).

    .venv/bin/python bench/ingest_http.py [--quick] [--calls 30000] [--backlog 1000000]

The clients run on the same 2 cores as the server and the database, and the backlog's events
are made while it drains: their time is part of every figure.

Preconditions: the writer stored every event; in the HTTP phase and the backlog, every request
was answered 2xx, the batches the server refused as busy (503) were sent again at most once per
batch on average (more, and the figure is the clients' backing off), and every event was stored;
a fresh event is shown on the idle server; probes and /healthz were asked during the drain.
`--post-to URL` sends the HTTP phase's batches there instead of to the server (a closed port in
tests/bench: no request is answered, and the bench says it could not measure)."""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson
import psycopg
import websockets
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import db, migrate
from app.auth.service import create_token
from bench.common import serve, stop
from bench.flood import probe
from bench.harness import Run
from ingest.writer import ingest
from tests.streams import START, day_of_events

BATCH = 5_000
CLIENTS = 4
PROBE_EVERY = 0.5
PROBE_PATIENCE = 60.0  # a probe not shown by then counts as this long


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 contacts; 100,000 backlog")
    parser.add_argument("--calls", type=int, default=None, help="default 30,000")
    parser.add_argument("--backlog", type=int, default=None, help="default 1,000,000")
    parser.add_argument(
        "--post-to", default=None, help="the HTTP phase's URL (default: the server)"
    )
    args = parser.parse_args()
    calls = args.calls or (10_000 if args.quick else 30_000)
    backlog = args.backlog or (100_000 if args.quick else 1_000_000)
    run = Run("ingest_http", quick=args.quick)
    events = day_of_events(calls=calls, agents=200, queues=10, seed=1, hours=10)
    events.sort(key=lambda e: e["ts"])
    bodies = [orjson.dumps(events[i : i + BATCH]) for i in range(0, len(events), BATCH)]
    n = len(events)
    print(f"{n:,} events in {len(bodies)} batches; backlog {backlog:,}; uptime: {_uptime()}")

    with tempfile.TemporaryDirectory() as tmp:
        server = db.EmbeddedServer(Path(tmp) / "pg")
        try:
            writer_url = _database(server.url, "writer")
            with psycopg.connect(db.libpq_url(writer_url)) as conn:
                start = time.perf_counter()
                stored = 0
                for i in range(0, n, BATCH):
                    with conn.transaction():
                        stored += ingest(conn, events[i : i + BATCH]).inserted
                writer_s = time.perf_counter() - start
            run.require("the writer stored every event", stored == n, f"{stored:,} of {n:,}")
            print(f"writer: {n / writer_s:,.0f} events/s; uptime: {_uptime()}", flush=True)

            url = _database(server.url, "served")
            with psycopg.connect(db.libpq_url(url)) as conn:
                tokens = {r: create_token(conn, role=r) for r in ("admin", "ingest")}  # type: ignore[arg-type]
                conn.commit()
            try:
                proc, base = serve(url, tmp)
            except RuntimeError as exc:
                run.fail(str(exc))
            try:
                http = _post_all(args.post_to or base, tokens["ingest"], iter(bodies), len(bodies))
                _require_answered(run, "HTTP", http)
                run.require(
                    "HTTP stored every event", http.stored == n, f"{http.stored:,} of {n:,}"
                )
                http_s = http.seconds
                print(f"HTTP: {n / http_s:,.0f} events/s; uptime: {_uptime()}", flush=True)
                drained = _backlog(base, tokens, backlog)
            finally:
                stop(proc)
        finally:
            server.close()

    run.require(
        "a fresh event shown on the idle server",
        drained is not None,
        ("within" if drained is not None else "not within") + f" {PROBE_PATIENCE:.0f} s",
    )
    assert drained is not None
    frames, health, posted = drained
    _require_answered(run, "the backlog", posted)
    drain_s = posted.seconds
    run.require(
        "the backlog was stored", posted.stored == backlog, f"{posted.stored:,} of {backlog:,}"
    )
    run.require("probes were shown during the drain", len(frames) >= 5, f"{len(frames)} probes")
    run.require("/healthz was asked during the drain", len(health) >= 10, f"{len(health)} times")
    print(f"uptime: {_uptime()}")
    run.figure("writer, in-process", n / writer_s, "ev/s", better="higher")
    run.figure(
        f"HTTP, {CLIENTS} clients, batches of {BATCH:,}", n / http_s, "ev/s", better="higher"
    )
    run.figure("HTTP / writer", writer_s / http_s, "x", target=0.5, better="higher")
    run.figure(f"backlog of {backlog:,}: drain rate", backlog / drain_s, "ev/s", better="higher")
    frames.sort()
    run.figure(
        "fresh event -> frame during the drain, p50", statistics.median(frames), "s", target=None
    )
    run.figure("fresh event -> frame during the drain, p99", _p99(frames), "s", target=2.0)
    run.figure("fresh event's POST answered during the drain, p99", _p99(POSTED[1:]), "s")
    run.figure("/healthz during the drain, worst", max(health), "s", target=1.0)
    run.finish()


MAX_BUSY_RETRIES = 30


class Posted(NamedTuple):
    seconds: float
    stored: int  # events the server said it inserted
    planned: int  # bodies to send
    batches: int  # bodies sent
    failed: int  # bodies never answered 2xx (after their busy retries)
    retried: int  # bodies sent again after a 503


def _require_answered(run: Run, phase: str, posted: Posted) -> None:
    # the retries first: too many of them end the posting with a batch not stored
    run.require(
        f"{phase}: busy retries at most one per batch",
        posted.retried <= max(posted.planned, posted.batches),
        f"{posted.retried:,} for {posted.planned:,} batches",
    )
    run.require(
        f"{phase}: every request answered 2xx",
        posted.failed == 0,
        f"{posted.failed:,} of {posted.batches:,} batches sent not stored",
    )


def _post_all(
    base: str,
    token: str,
    bodies: Iterator[bytes],
    planned: int,
    halt: threading.Event | None = None,
) -> Posted:
    """POST every body (`planned` of them), CLIENTS at a time. A batch not stored, or more busy
    retries than batches, ends the posting early (sets `halt`): the figure is lost already,
    and a server that times out every batch would otherwise keep the bench for hours."""
    halt = halt or threading.Event()
    lock = threading.Lock()
    stored = [0]
    retries = [0]
    sent = [0]
    failures: list[str] = []

    def client() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, timeout=600, headers=headers) as c:
            while not halt.is_set():
                with lock:
                    body = next(bodies, None)
                    sent[0] += body is not None
                if body is None:
                    return
                try:
                    r = c.post("/api/v1/events", content=body)
                    tries = 0
                    # busy: back off as told and send the same batch again, a bounded number
                    # of times (a server that keeps refusing makes the bench say so, not hang)
                    while r.status_code == 503 and tries < MAX_BUSY_RETRIES:
                        tries += 1
                        with lock:
                            retries[0] += 1
                            if retries[0] > planned:
                                halt.set()
                        if halt.is_set():
                            break
                        time.sleep(float(r.headers.get("Retry-After") or 1))
                        r = c.post("/api/v1/events", content=body)
                except httpx.HTTPError as exc:  # no answer: a failure, not the client's end
                    failures.append(f"{type(exc).__name__}: {exc}")
                    halt.set()
                    continue
                if r.status_code != 200:
                    failures.append(f"{r.status_code}: {r.text[:200]}")
                    halt.set()
                    continue
                with lock:
                    stored[0] += r.json()["inserted"]

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        print(f"{len(failures)} failed requests, the first: {failures[0]}", file=sys.stderr)
    if retries[0]:
        print(f"{retries[0]} requests answered 503 (busy) and sent again", flush=True)
    took = time.perf_counter() - start
    return Posted(took, stored[0], planned, sent[0], len(failures), retries[0])


def _days(total: int) -> Iterator[bytes]:
    """Bodies of BATCH events, days of a 200-agent floor (ids and calls unique per day), made
    as they are needed (bounded memory), until `total` events: the days after the HTTP phase's,
    as a backlog after an outage is. (Days before it would leave each agent's state of the
    first backlog day open until the stored day: months of agent time per batch.)"""
    made, day = 0, 0
    while made < total:
        events = day_of_events(
            calls=10_000,
            agents=200,
            queues=10,
            seed=100 + day,
            start=START + timedelta(days=1 + day),
            prefix=f"d{day}-",
        )
        events.sort(key=lambda e: e["ts"])
        events = events[: total - made]
        for i in range(0, len(events), BATCH):
            yield orjson.dumps(events[i : i + BATCH])
        made += len(events)
        day += 1


def _backlog(
    base: str, tokens: dict[str, str], total: int
) -> tuple[list[float], list[float], Posted] | None:
    """Drain `total` events while probing; (event -> frame seconds, /healthz seconds, what the
    drain posted), or None when a fresh event is not shown on the idle server."""
    bodies: queue.Queue[bytes | None] = queue.Queue(maxsize=2 * CLIENTS)
    halt = threading.Event()  # the clients stopped early: make no more

    def offer(body: bytes | None) -> bool:
        while not halt.is_set():
            try:
                bodies.put(body, timeout=0.5)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        for body in _days(total):
            if not offer(body):
                return
        for _ in range(CLIENTS):
            offer(None)

    def from_queue() -> Iterator[bytes]:
        while not halt.is_set():
            try:
                body = bodies.get(timeout=0.5)
            except queue.Empty:
                continue
            if body is None:
                return
            yield body

    done = threading.Event()
    health: list[float] = []
    frames: list[float] = []
    result: list[Posted] = []

    def drain() -> None:
        planned = -(-total // BATCH)
        result.append(_post_all(base, tokens["ingest"], _Shared(from_queue()), planned, halt))
        done.set()

    checker = threading.Thread(target=probe, args=(base, done, health))
    threads = [threading.Thread(target=produce), threading.Thread(target=drain), checker]
    seen = asyncio.run(_first_probe(base, tokens))  # the probe works on an idle server
    if seen is None:
        return None
    for t in threads:
        t.start()
    asyncio.run(_probes(base, tokens, done, frames))
    for t in threads:
        t.join()
    return frames, health, result[0]


class _Shared:
    """One iterator for several client threads (they take turns under _post_all's lock)."""

    def __init__(self, it: Iterator[bytes]) -> None:
        self.it = it

    def __iter__(self) -> _Shared:
        return self

    def __next__(self) -> bytes:
        return next(self.it)


POSTED: list[float] = []  # each probe's POST answered after (seconds)


def _shows(frame: dict[str, Any], queue_name: str) -> bool:
    today = ((frame.get("data") or {}).get("windows") or {}).get("today") or {}
    return queue_name in (today.get("queues") or {})


async def _probe_once(ws: Any, client: httpx.AsyncClient, base: str, name: str) -> float:
    sent = time.monotonic()
    event = {
        "id": name,
        "ts": datetime.now(UTC).isoformat(),
        "type": "call.queued",
        "call_id": name,
        "queue": name,
    }
    await client.post(f"{base}/api/v1/events", json=[event])
    POSTED.append(time.monotonic() - sent)
    while time.monotonic() - sent < PROBE_PATIENCE:
        try:
            raw = await asyncio.wait_for(ws.recv(), timeout=PROBE_PATIENCE)
        except TimeoutError:
            break
        if _shows(orjson.loads(raw), name):
            return time.monotonic() - sent
    return PROBE_PATIENCE


def _ws_url(base: str, token: str) -> str:
    return base.replace("http", "ws") + "/api/v1/live?topics=center&token=" + token


async def _first_probe(base: str, tokens: dict[str, str]) -> float | None:
    headers = {"Authorization": f"Bearer {tokens['ingest']}"}
    async with (
        websockets.connect(_ws_url(base, tokens["admin"]), max_size=None) as ws,
        httpx.AsyncClient(headers=headers, timeout=60) as client,
    ):
        took = await _probe_once(ws, client, base, "idle-probe")
    return None if took >= PROBE_PATIENCE else took


async def _probes(
    base: str, tokens: dict[str, str], done: threading.Event, out: list[float]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['ingest']}"}
    async with (
        websockets.connect(_ws_url(base, tokens["admin"]), max_size=None) as ws,
        httpx.AsyncClient(headers=headers, timeout=60) as client,
    ):
        i = 0
        while not done.is_set():
            started = time.monotonic()
            out.append(await _probe_once(ws, client, base, f"probe{i}"))
            i += 1
            await asyncio.sleep(max(0.0, PROBE_EVERY - (time.monotonic() - started)))


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _database(server_url: str, name: str) -> str:
    """A new database on the server, built by the migrations; its URL."""
    with psycopg.connect(db.libpq_url(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = db.make_engine(url)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    return url


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    os.environ.setdefault("CALLBOARD_TICK_S", "0.25")
    main()
