"""Database time per second with 4 API workers vs 1: one leader computes for all of them.

    .venv/bin/python bench/cluster.py [--quick] [--seconds 20] [--hours 1]

A real server (`callboard serve --workers N`) on an embedded database holding `--hours` of
history of 200 queues and 5,000 agents (bench/tick.py's generator, ending now), a steady 100
events/s, and websocket clients on the same topics in both runs (socket i follows `center`
and `queue:q<i mod 32>`), spread over every worker. The figure is the database's work per
second of wall time, ingest included: the CPU time (user + system) of the PostgreSQL
processes of the bench's own database (the postmaster, its live backends and workers, and
those it reaped).
Target: 4 workers <= 1.3 x 1 worker.

Not `pg_stat_database.active_time`, printed beside it: that is the time a statement is open,
and half of it was its backend waiting for the client (a COPY waiting for the next rows, a
SELECT for the client to read its result: `ClientRead` and `ClientWrite` in
pg_stat_activity), which on two cores shared by the bench, its socket clients and 1 or 4
Python workers measures how starved the Python processes are, not the database's work.

The ratio only means something when both runs did the same work, so the bench checks, and
stops with the reason (exit 3) when one does not hold:
- every worker has clients (each socket learns its worker from the heartbeats; more sockets
  on the same topics are opened, up to 128, until every worker is seen);
- every socket received frames while measured;
- the load generator delivered at least 90 % of its rate while measured, in batches of the
  same size at the same pace (a batch a second: the writer's work is mostly per batch),
  and the server
  stored its events as new (each run's events have ids of their own: a run that re-sent the
  previous run's ids stored nothing, derived nothing and woke no leader);
- the database time was steady before and while it was measured (after 30 s, three
  5-second readings and the measured one, each within 20 % of their mean, waiting up to 2
  minutes: a leader still building its engine computes in full and would count that as the
  cluster's cost);
- the two runs did comparable work: more workers with one leader spend at least 0.7 x one
  worker's database time (a lower ratio says a run skipped work, not that it was cheaper)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import psutil
import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tick as history  # bench/tick.py

from app.auth.service import create_token
from app.config import CallboardConfig, store_config
from bench.common import Database, Load, migrated_database, raise_fd_limit, serve, stop
from bench.harness import Run

TOPIC_QUEUES = 32
MAX_SOCKETS = 128
RATE = 100.0
# a batch every second (100 events), in both runs: the writer's cost is mostly per batch
# (the rollups' 15-minute intervals computed again), and a load posting "what is due" every
# 0.1 s sends fewer, larger batches to a slower server (1 worker), i.e. other work
EVERY = 1.0
# before the readings: the first half minute of a server is not its steady work (the leader's
# engine built on a thread while ticks compute in full, caches filled); on this machine one
# worker's database CPU fell 268 -> 227 -> 167 -> 148 -> 129 ms/s over its first 25 s
WARM_S = 30.0


class Sockets(threading.Thread):
    """Websocket clients on their own event loop: which worker each reached, its frames."""

    def __init__(self, base: str, token: str, workers: int) -> None:
        super().__init__(daemon=True, name="sockets")
        self.base, self.token, self.workers = base, token, workers
        self.worker: dict[int, int] = {}  # socket -> worker id
        self.frames: dict[int, list[float]] = {}  # socket -> monotonic times of its frames
        self.errors: list[str] = []
        self.ready = threading.Event()
        self.halt = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _one(self, i: int) -> None:
        topics = f"center,queue:q{i % TOPIC_QUEUES}"
        url = self.base.replace("http", "ws", 1) + f"/api/v1/live?topics={topics}"
        url += f"&token={self.token}"
        self.frames[i] = []
        try:
            async with websockets.connect(url, max_size=None, open_timeout=30) as ws:
                while not self.halt.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                    except TimeoutError:
                        continue
                    self.frames[i].append(time.monotonic())
                    if str(raw)[:40].find('"_heartbeat"') >= 0:
                        self.worker[i] = orjson.loads(raw)["data"]["worker"]
        except (OSError, websockets.WebSocketException) as exc:
            if len(self.errors) < 20:
                self.errors.append(f"socket {i}: {type(exc).__name__}: {exc}")

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._one(i)) for i in range(TOPIC_QUEUES)]
        n = TOPIC_QUEUES
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.halt.is_set():
            await asyncio.sleep(1.0)
            seen = set(self.worker.values())
            answered = sum(1 for i in range(n) if i in self.worker)
            if len(seen) >= self.workers and answered >= 0.9 * n:
                break
            if answered >= 0.9 * n and n < MAX_SOCKETS:  # a worker without clients: more
                tasks += [asyncio.create_task(self._one(i)) for i in range(n, n + 8)]
                n += 8
        self.ready.set()
        while not self.halt.is_set():
            await asyncio.sleep(0.2)
        await asyncio.gather(*tasks, return_exceptions=True)

    def silent(self, since: float, until: float) -> list[int]:
        """Sockets that received no frame between two instants."""
        return [i for i, ts in self.frames.items() if not any(since <= t <= until for t in ts)]


def active_ms(url: str) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT active_time FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def cpu_ms(database: Database) -> float:
    """CPU time (ms) the PostgreSQL of this database has used: the postmaster, its children
    alive now, and those it reaped (a backend whose connection closed)."""
    pid = int((database.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    master = psutil.Process(pid)
    t = master.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in master.children():
        try:
            c = child.cpu_times()
        except psutil.Error:  # ended meanwhile: its time is in the reaped ones' next time
            continue
        total += c.user + c.system
    return 1000.0 * total


class Reading(NamedTuple):
    cpu: float  # PostgreSQL's CPU ms per second
    active: float  # pg_stat_database.active_time ms per second (waits on clients included)


def per_second(database: Database, seconds: float) -> Reading:
    cpu0, active0, t0 = cpu_ms(database), active_ms(database.libpq), time.monotonic()
    time.sleep(seconds)
    cpu1, active1 = cpu_ms(database), active_ms(database.libpq)
    dt = time.monotonic() - t0
    return Reading((cpu1 - cpu0) / dt, (active1 - active0) / dt)


def steady(readings: list[float]) -> bool:
    """Each reading within 20 % of their mean (a leader that finishes building its engine,
    or a server still warming up, changes its database time by far more)."""
    mean = sum(readings) / len(readings)
    return all(abs(r - mean) <= 0.2 * mean for r in readings) if mean > 0 else False


def measure(
    run: Run, database: Database, workers: int, seconds: float, tokens: dict[str, str]
) -> dict[str, Any]:
    label = f"{workers} worker(s)"
    try:
        proc, base = serve(database.url, database.folder, workers=workers)
    except RuntimeError as exc:
        run.fail(f"{label}: {exc}")
    load = Load(base, tokens["ingest"], RATE, every=EVERY)
    sockets = Sockets(base, tokens["wallboard"], workers)
    try:
        load.start()
        sockets.start()
        sockets.ready.wait(timeout=90)
        seen = set(sockets.worker.values())
        run.require(
            f"{label}: every worker has clients",
            len(seen) == workers,
            f"{len(seen)} of {workers} answered over {len(sockets.frames)} sockets"
            + (f"; {sockets.errors[0]}" if sockets.errors else ""),
        )
        time.sleep(WARM_S)
        readings = [per_second(database, 5).cpu for _ in range(3)]
        while not steady(readings[-3:]) and len(readings) < 24:
            readings.append(per_second(database, 5).cpu)
        run.require(
            f"{label}: database time steady before measuring",
            steady(readings[-3:]),
            "5-second readings (CPU ms/s): " + ", ".join(f"{r:.0f}" for r in readings),
        )
        t0 = time.monotonic()
        measured = per_second(database, seconds)
        value = measured.cpu
        t1 = time.monotonic()
        run.require(
            f"{label}: database time steady while measured",
            steady([*readings[-3:], value]),
            f"{value:.0f} ms/s measured after readings of "
            + ", ".join(f"{r:.0f}" for r in readings[-3:]),
        )
        achieved = load.rate(t0, t1)
        run.require(
            f"{label}: load generator delivered",
            load.is_alive() and achieved >= 0.9 * RATE,
            f"{achieved:.0f} events/s of {RATE:.0f}; failed batches {load.failed}"
            + (f" ({load.errors[-1]})" if load.errors else ""),
        )
        batches = load.batches_between(t0, t1) / (t1 - t0)
        run.require(
            f"{label}: the load's batches as paced",
            batches >= 0.9 / EVERY,
            f"{batches:.2f} batches/s of {1 / EVERY:.2f} (a slower server gets larger ones)",
        )
        run.require(
            f"{label}: the load's events were new",
            load.stored >= 0.9 * (load.stored + load.duplicates) and load.stored > 0,
            f"{load.stored} stored, {load.duplicates} duplicates",
        )
        silent = sockets.silent(t0, t1)
        run.require(
            f"{label}: every socket received frames",
            not silent,
            f"{len(silent)} of {len(sockets.frames)} silent",
        )
        print(
            f"  {label}: {len(sockets.frames)} sockets on {len(seen)} workers, "
            f"{achieved:.0f} events/s in {batches:.1f} batches/s, database CPU {value:7.1f} ms/s "
            f"(active_time {measured.active:.0f} ms/s; "
            f"warm-up readings {', '.join(f'{r:.0f}' for r in readings)})",
            flush=True,
        )
        return {
            "ms_per_s": value,
            "active_ms_per_s": measured.active,
            "sockets": len(sockets.frames),
            "events_per_s": achieved,
        }
    finally:
        sockets.halt.set()
        load.stop()
        sockets.join(timeout=30)
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s measured")
    parser.add_argument("--seconds", type=float, default=None, help="measured (default 20)")
    parser.add_argument("--hours", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    seconds = args.seconds or (10.0 if args.quick else 20.0)
    run = Run("cluster", quick=args.quick)
    raise_fd_limit()
    history.NOW = datetime.now(UTC)
    config = CallboardConfig.model_validate(
        {
            "teams": {
                f"t{t}": {"agents": [f"a{a}" for a in range(t * 25, (t + 1) * 25)]}
                for t in range(history.AGENTS // history.TEAM_SIZE)
            }
        }
    )
    with migrated_database() as database:
        with psycopg.connect(database.libpq, autocommit=True) as conn:
            store_config(conn, config, origin="bench")
            history.fill(conn, args.hours)
            # the history as a running database has it: vacuumed and analysed (else the
            # autovacuum of what was just written runs during the first run only, and is
            # counted as its database time)
            conn.execute("VACUUM (ANALYZE)")
            filled = conn.execute("SELECT count(*) FROM contact_segments").fetchone()
            tokens = {r: create_token(conn, role=r) for r in ("ingest", "wallboard")}  # type: ignore[arg-type]
        run.require("history filled", bool(filled and filled[0]), f"{filled} segments")
        print(f"{args.hours} h of history, {RATE:.0f} events/s, {TOPIC_QUEUES} topics")
        one = measure(run, database, 1, seconds, tokens)
        many = measure(run, database, args.workers, seconds, tokens)
        ratio = many["ms_per_s"] / one["ms_per_s"] if one["ms_per_s"] else float("inf")
        # One leader computes for every worker: more workers never spend much less
        # database time on the same work; when they seem to, the runs differed.
        run.require(
            "both runs did the same work",
            ratio >= 0.7,
            f"{args.workers} workers spent {ratio:.2f} x one worker's database time",
        )
        run.figure("cluster: database CPU, 1 worker", one["ms_per_s"], "ms/s")
        run.figure(f"cluster: database CPU, {args.workers} workers", many["ms_per_s"], "ms/s")
        run.figure(f"cluster: {args.workers} workers / 1 worker", ratio, "x", target=1.3)
        run.finish()


if __name__ == "__main__":
    main()
