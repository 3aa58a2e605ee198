"""A flood on a real server process: N concurrent requests, half with made-up tokens, while
/healthz is probed from another connection. Prints the valid requests' latency (p50 / p99 /
max), how many were refused with 503, any 5xx other than 503, and /healthz's worst time.

    .venv/bin/python bench/flood.py [--quick] [--requests 200] [--rounds 3]

Targets (issue 10): valid requests answered within 2 s or refused at once with 503 and
Retry-After; no 500; /healthz under 1 s. The client runs on the same machine and shares its
cores: its own time is part of every figure."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.service import create_token
from bench.common import migrated_database, serve, stop
from bench.harness import Run

PATHS = ("/api/v1/metrics?by=queue", "/api/v1/staffing", "/api/v1/me")


async def flood(base: str, token: str, n: int) -> list[tuple[bool, int, float]]:
    """n requests at once, every other one with a made-up token; status 0 is a connection
    that ended without a response."""
    limits = httpx.Limits(max_connections=max(1, n), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as c:

        async def one(i: int) -> tuple[bool, int, float]:
            valid = i % 2 == 0
            bearer = token if valid else f"cb_madeup{i:05d}{'x' * 30}"
            start = time.monotonic()
            try:
                r = await c.get(PATHS[i % 3], headers={"Authorization": f"Bearer {bearer}"})
            except httpx.HTTPError:
                return valid, 0, time.monotonic() - start
            return valid, r.status_code, time.monotonic() - start

        return await asyncio.gather(*(one(i) for i in range(n)))


def probe(base: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            start = time.monotonic()
            try:
                c.get("/healthz")
            except httpx.HTTPError:
                out.append(float("inf"))
            else:
                out.append(time.monotonic() - start)
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=None, help="default 3")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    run = Run("flood", quick=args.quick)
    answers: list[tuple[bool, int, float]] = []
    health: list[float] = []
    with migrated_database() as database:
        with psycopg.connect(database.libpq) as conn:
            token = create_token(conn, role="admin")
            conn.commit()
        try:
            proc, base = serve(database.url, database.folder)
        except RuntimeError as exc:
            run.fail(str(exc))
        try:
            run.require(
                "the valid token answers before the flood",
                httpx.get(
                    f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                ).status_code
                == 200,
            )
            for round_ in range(args.rounds):
                stop_probe = threading.Event()
                probed: list[float] = []
                t = threading.Thread(target=probe, args=(base, stop_probe, probed))
                t.start()
                got = asyncio.run(flood(base, token, args.requests))
                stop_probe.set()
                t.join()
                answers += got
                health += probed
                ok = sorted(took for valid, s, took in got if valid and s == 200)
                print(
                    f"round {round_ + 1}: {args.requests} requests, valid answered "
                    f"{len(ok)}, /healthz worst {max(probed, default=float('nan')):.2f} s "
                    f"over {len(probed)} probes",
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
            stop(proc)
    run.require("/healthz probed during the flood", len(health) >= 3, f"{len(health)} probes")
    ok = sorted(took for valid, s, took in answers if valid and s == 200)
    run.require("valid requests answered", bool(ok), f"{len(ok)} of {len(answers) // 2}")
    refused = sum(1 for valid, s, _ in answers if valid and s == 503)
    errors = sum(1 for _, s, _ in answers if s >= 500 and s != 503)
    dropped = sum(1 for _, s, _ in answers if s == 0)
    p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))]
    size = f"{args.requests} at once, half with made-up tokens"
    run.figure(f"flood ({size}): valid requests p50", statistics.median(ok), "s")
    run.figure(f"flood ({size}): valid requests p99", p99, "s", target=2)
    run.figure("flood: valid requests refused with 503", refused, "")
    run.figure("flood: 5xx other than 503", errors, "", target=0)
    run.figure("flood: connections ended without a response", dropped, "", target=0)
    run.figure("flood: /healthz worst", max(health), "s", target=1)
    run.finish()


if __name__ == "__main__":
    main()
