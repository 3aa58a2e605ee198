"""Database time per second with 4 API workers vs 1: one leader computes for all of them.

    .venv/bin/python bench/cluster.py [--quick] [--seconds 20] [--hours 1]

A real server (`callboard serve --workers N`) on an embedded database holding `--hours` of
history of 200 queues and 5,000 agents (bench/tick.py's generator, ending now), a steady 100
events/s, and websocket clients on the same topics in both runs (socket i follows `center`
and `queue:q<i mod 32>`), spread over every worker. The figure is PostgreSQL's own
`pg_stat_database.active_time` (time its backends spent executing statements in the
database) per second of wall time, ingest included. Target: 4 workers <= 1.3 x 1 worker.

The ratio only means something when both runs did the same work, so the bench checks, and
stops with the reason (exit 3) when one does not hold:
- every worker has clients (each socket learns its worker from the heartbeats; more sockets
  on the same topics are opened, up to 128, until every worker is seen);
- every socket received frames while measured;
- the load generator delivered at least 90 % of its rate while measured;
- the database time was steady before and while it was measured (three 5-second readings
  and the measured one, each within 20 % of their mean, waiting up to 2 minutes: a leader
  still building its engine computes in full and would count that as the cluster's cost);
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
from typing import Any

import orjson
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


def per_second(url: str, seconds: float) -> float:
    before, t0 = active_ms(url), time.monotonic()
    time.sleep(seconds)
    return (active_ms(url) - before) / (time.monotonic() - t0)


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
    load = Load(base, tokens["ingest"], RATE)
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
        readings = [per_second(database.libpq, 5) for _ in range(3)]
        while not steady(readings[-3:]) and len(readings) < 24:
            readings.append(per_second(database.libpq, 5))
        run.require(
            f"{label}: database time steady before measuring",
            steady(readings[-3:]),
            "5-second readings (ms/s): " + ", ".join(f"{r:.0f}" for r in readings),
        )
        t0 = time.monotonic()
        value = per_second(database.libpq, seconds)
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
        silent = sockets.silent(t0, t1)
        run.require(
            f"{label}: every socket received frames",
            not silent,
            f"{len(silent)} of {len(sockets.frames)} silent",
        )
        print(
            f"  {label}: {len(sockets.frames)} sockets on {len(seen)} workers, "
            f"{achieved:.0f} events/s, database time {value:7.1f} ms/s "
            f"(warm-up readings {', '.join(f'{r:.0f}' for r in readings)})",
            flush=True,
        )
        return {"ms_per_s": value, "sockets": len(sockets.frames), "events_per_s": achieved}
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
        run.figure("cluster: database time, 1 worker", one["ms_per_s"], "ms/s")
        run.figure(f"cluster: database time, {args.workers} workers", many["ms_per_s"], "ms/s")
        run.figure(f"cluster: {args.workers} workers / 1 worker", ratio, "x", target=1.3)
        run.finish()


if __name__ == "__main__":
    main()
