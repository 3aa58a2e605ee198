"""A flood on a real server process: N concurrent requests, half with made-up tokens, while
/healthz is probed from another connection. Prints the valid requests' latency (p50 / p99 /
max), how many were refused with 503, any 5xx other than 503, and /healthz's worst time.

    .venv/bin/python bench/flood.py [--requests 200] [--rounds 3]

Targets (issue 10): valid requests answered within 2 s or refused at once with 503 and
Retry-After; no 500; /healthz under 1 s. The client runs on the same machine and shares its
cores: its own time is part of every figure."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import db, migrate
from app.auth.service import create_token
from bench.live import start_server

PATHS = ("/api/v1/metrics?by=queue", "/api/v1/staffing", "/api/v1/me")


async def flood(base: str, token: str, n: int) -> list[tuple[bool, int, float]]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as c:

        async def one(i: int) -> tuple[bool, int, float]:
            valid = i % 2 == 0
            bearer = token if valid else f"cb_madeup{i:05d}{'x' * 30}"
            start = time.monotonic()
            r = await c.get(PATHS[i % 3], headers={"Authorization": f"Bearer {bearer}"})
            return valid, r.status_code, time.monotonic() - start

        return await asyncio.gather(*(one(i) for i in range(n)))


def probe(base: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            start = time.monotonic()
            c.get("/healthz")
            out.append(time.monotonic() - start)
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = db.EmbeddedServer(Path(tmp) / "pg")
        try:
            engine = db.make_engine(server.url)
            with engine.begin() as c:
                migrate.upgrade(c)
            engine.dispose()
            with psycopg.connect(
                server.url.replace("postgresql+psycopg://", "postgresql://")
            ) as conn:
                token = create_token(conn, role="admin")
                conn.commit()
            proc, base = start_server(server.url, 1.0, tmp)
            try:
                for round_ in range(args.rounds):
                    health: list[float] = []
                    stop = threading.Event()
                    t = threading.Thread(target=probe, args=(base, stop, health))
                    t.start()
                    answers = asyncio.run(flood(base, token, args.requests))
                    stop.set()
                    t.join()
                    ok = sorted(took for valid, s, took in answers if valid and s == 200)
                    refused = sum(1 for valid, s, _ in answers if valid and s == 503)
                    errors = sum(1 for _, s, _ in answers if s >= 500 and s != 503)
                    p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))] if ok else float("nan")
                    print(
                        f"round {round_ + 1}: {args.requests} requests, valid answered "
                        f"{len(ok)} (p50 {statistics.median(ok) if ok else float('nan'):.2f} s, "
                        f"p99 {p99:.2f} s, max {max(ok, default=float('nan')):.2f} s), "
                        f"valid refused 503: {refused}, other 5xx: {errors}, "
                        f"/healthz worst {max(health, default=float('nan')):.2f} s "
                        f"over {len(health)} probes",
                        flush=True,
                    )
                served = httpx.get(
                    f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
                ).text
                for line in served.splitlines():
                    if line.startswith("callboard_http_request_duration_seconds_") and (
                        "_sum" in line or "_count" in line
                    ):
                        print("  server side:", line, flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            server.close()


if __name__ == "__main__":
    main()
