"""Database time per second with 4 API workers vs 1: one leader computes for all of them.

    .venv/bin/python bench/cluster.py [--seconds 20] [--hours 1]

A real server (`callboard serve --workers N`) on an embedded database holding `--hours` of
history of 200 queues and 5,000 agents (bench/tick.py's generator, ending now), a steady 100
events/s, and 8 websocket clients per worker on the center and one queue each. The figure is
PostgreSQL's own `pg_stat_database.active_time` (time its backends spent executing statements
in the database) per second of wall time, ingest included. Target: 4 workers <= 1.3 x 1."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tick as history  # bench/tick.py
from live import free_port, load, raise_fd_limit

from app import db, migrate
from app.auth.service import create_token
from app.config import CallboardConfig, store_config


def serve(url: str, workers: int, data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CALLBOARD_PORT": str(port),
        "CALLBOARD_DATA_DIR": data_dir,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "serve",
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=raise_fd_limit,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


async def clients(base: str, token: str, n: int, seconds: float, workers: set[int]) -> int:
    frames = 0

    async def one(i: int) -> None:
        nonlocal frames
        url = base.replace("http", "ws") + f"/api/v1/live?topics=center,queue:q{i}&token={token}"
        async with websockets.connect(url, max_size=None) as ws:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=end - time.monotonic())
                except TimeoutError:
                    break
                frames += 1
                if '"_heartbeat"' in str(raw)[:40]:
                    workers.add(orjson.loads(raw)["data"]["worker"])

    await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    return frames


def active_ms(url: str) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT active_time FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        conn.execute("SELECT pg_stat_clear_snapshot()")
    return float(row[0]) if row else 0.0


def measure(url: str, libpq: str, workers: int, seconds: float, tmp: str, token: dict[str, str]):
    proc, base = serve(url, workers, tmp)
    try:
        stop = threading.Event()
        bg = threading.Thread(target=load, args=(base, token["ingest"], 100.0, stop))
        bg.start()
        seen: set[int] = set()
        warm = threading.Thread(
            target=lambda: asyncio.run(
                clients(base, token["wallboard"], 8 * workers, seconds + 10, seen)
            )
        )
        warm.start()
        time.sleep(8)  # every client connected, every topic computed once
        before, t0 = active_ms(libpq), time.monotonic()
        time.sleep(seconds)
        after, t1 = active_ms(libpq), time.monotonic()
        warm.join()
        stop.set()
        bg.join()
        return (after - before) / (t1 - t0), len(seen)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--hours", type=int, default=1)
    args = parser.parse_args()
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
    with tempfile.TemporaryDirectory() as tmp:
        server = db.EmbeddedServer(Path(tmp) / "pg")
        try:
            engine = db.make_engine(server.url)
            with engine.begin() as c:
                migrate.upgrade(c)
            engine.dispose()
            libpq = server.url.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(libpq, autocommit=True) as conn:
                store_config(conn, config, origin="bench")
                history.fill(conn, args.hours)
                tokens = {r: create_token(conn, role=r) for r in ("ingest", "wallboard")}  # type: ignore[arg-type]
            print(f"{args.hours} h of history, 100 events/s, 8 clients per worker", flush=True)
            figures = {}
            for n in (1, 4):
                per_s, seen = measure(server.url, libpq, n, args.seconds, tmp, tokens)
                figures[n] = per_s
                print(
                    f"  {n} worker(s) ({seen} answered): database time {per_s:7.1f} ms/s",
                    flush=True,
                )
            print(f"ratio 4 / 1: {figures[4] / figures[1]:.2f} (target <= 1.3)")
        finally:
            server.close()


if __name__ == "__main__":
    main()
