"""Live push, measured end to end on a real server process:

1. latency: an event POSTed -> the websocket frame that shows it, p50 / p99, while a steady
   1,000 events/s are posted (each probe is a call.queued of its own queue, so its frame is
   unambiguous);
2. fan-out: N websocket clients of one process at one update per second, and the CPU the
   server process uses for them.

    .venv/bin/python bench/live.py [--clients 5000] [--tick 0.25] [--seconds 30] [--clients 0]

Targets (ARCHITECTURE.md): p50 <= 0.3 s, p99 <= 1 s at 1,000 events/s; 5,000 clients < 1 core."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import psutil
import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import db, migrate
from app.auth.service import create_token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_server(url: str, tick: float, data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CALLBOARD_PORT": str(port),
        "CALLBOARD_DATA_DIR": data_dir,
        "CALLBOARD_TICK_S": str(tick),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=raise_fd_limit,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def load(base: str, token: str, rate: float, stop: threading.Event) -> None:
    """A steady background of call.queued events in 10 queues, in batches every 100 ms."""
    n = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while not stop.is_set():
            t0 = time.monotonic()
            now = datetime.now(UTC).isoformat()
            batch = [
                {
                    "id": f"bg{n + i}",
                    "ts": now,
                    "type": "call.queued",
                    "call_id": f"bgc{n + i}",
                    "queue": f"bg{(n + i) % 10}",
                }
                for i in range(int(rate / 10))
            ]
            n += len(batch)
            client.post(f"{base}/api/v1/events", json=batch)
            stop.wait(max(0.0, 0.1 - (time.monotonic() - t0)))


async def latency(base: str, tokens: dict[str, str], probes: int) -> list[float]:
    ws_url = base.replace("http", "ws") + "/api/v1/live?topics=center&token=" + tokens["admin"]
    out: list[float] = []
    async with (
        websockets.connect(ws_url, max_size=None) as ws,
        httpx.AsyncClient(
            headers={"Authorization": f"Bearer {tokens['ingest']}"}, timeout=10
        ) as client,
    ):
        while True:  # wait for the first snapshot
            if orjson.loads(await ws.recv()).get("kind") == "snapshot":
                break
        for i in range(probes):
            queue = f"probe{i}"
            sent = time.monotonic()
            await client.post(
                f"{base}/api/v1/events",
                json=[
                    {
                        "id": f"p{i}",
                        "ts": datetime.now(UTC).isoformat(),
                        "type": "call.queued",
                        "call_id": f"pc{i}",
                        "queue": queue,
                    }
                ],
            )
            while True:
                frame = orjson.loads(await ws.recv())
                today = ((frame.get("data") or {}).get("windows") or {}).get("today") or {}
                queues = today.get("queues") or {}
                if queue in queues:
                    out.append(time.monotonic() - sent)
                    break
            await asyncio.sleep(0.2)
    return out


CLIENT = r"""
import asyncio, sys, time, resource, orjson, websockets
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
url, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
frames = 0
async def one():
    global frames
    async with websockets.connect(url, max_size=None, open_timeout=120) as ws:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                await asyncio.wait_for(ws.recv(), timeout=max(0.1, end - time.monotonic()))
                frames += 1
            except asyncio.TimeoutError:
                break
async def main():
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(one()))
        if i % 200 == 199:
            await asyncio.sleep(0.2)
    print("connected", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    print(frames, flush=True)
asyncio.run(main())
"""


def fan_out(
    base: str, tokens: dict[str, str], server_pid: int, clients: int, seconds: float
) -> tuple[float, float, int]:
    url = base.replace("http", "ws") + "/api/v1/live?topics=center&token=" + tokens["wallboard"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CLIENT, url, str(clients), str(seconds + 60)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # all connecting
    server = psutil.Process(server_pid)

    def established() -> int:
        # the server's websocket connections (its database connections are on a socket file)
        return len([c for c in server.net_connections("tcp") if c.status == "ESTABLISHED"])

    deadline = time.monotonic() + 180
    while established() < clients and time.monotonic() < deadline:
        time.sleep(2)  # let every handshake finish before measuring
    server.cpu_percent(None)
    conns = established()
    time.sleep(seconds)
    cpu = server.cpu_percent(None) / 100  # cores
    proc.terminate()
    proc.communicate(timeout=120)
    return cpu, seconds, conns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--tick", type=float, default=0.25)  # the default of CALLBOARD_TICK_S
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    raise_fd_limit()
    with tempfile.TemporaryDirectory() as tmp:
        server = db.EmbeddedServer(Path(tmp) / "pg")
        try:
            engine = db.make_engine(server.url)
            with engine.begin() as c:
                migrate.upgrade(c)
            engine.dispose()
            libpq = server.url.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(libpq) as conn:
                tokens = {r: create_token(conn, role=r) for r in ("admin", "ingest", "wallboard")}  # type: ignore[arg-type]
                conn.commit()
            proc, base = start_server(server.url, args.tick, tmp)
            try:
                stop = threading.Event()
                bg = threading.Thread(target=load, args=(base, tokens["ingest"], args.rate, stop))
                bg.start()
                lat = asyncio.run(latency(base, tokens, args.probes))
                stop.set()
                bg.join()
                lat.sort()
                p50 = statistics.median(lat)
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                print(
                    f"latency at {args.rate:,.0f} events/s, tick {args.tick} s: "
                    f"p50 {p50:.3f} s, p99 {p99:.3f} s over {len(lat)} probes "
                    "(targets 0.3 / 1.0)",
                    flush=True,
                )
                if not args.clients:
                    return
                # one update a second for the fan-out: a slow trickle of events
                stop = threading.Event()
                bg = threading.Thread(target=load, args=(base, tokens["ingest"], 20, stop))
                bg.start()
                cpu, secs, conns = fan_out(base, tokens, proc.pid, args.clients, args.seconds)
                stop.set()
                bg.join()
                print(
                    f"{conns:,} websocket clients of one process at 1 update/s: "
                    f"server CPU {cpu:.2f} cores over {secs:.0f} s (target < 1)",
                    flush=True,
                )
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            server.close()


if __name__ == "__main__":
    main()
