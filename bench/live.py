"""Live push, measured end to end on a real server process:

1. latency: an event POSTed -> the websocket frame that shows it, p50 / p99, while a steady
   1,000 events/s are posted (each probe is a call.queued of its own queue, so its frame is
   unambiguous);
2. fan-out: N websocket clients of one process at one update per second, the CPU the server
   process uses for them, and the bytes per second each client receives: as sent (patches
   against the frame before) and as full frames would have been (the state each patch
   rebuilds, measured on a sample of the clients).

    .venv/bin/python bench/live.py [--quick] [--clients 5000] [--tick 0.25] [--seconds 30]

Targets (issue #19): p50 <= 0.25 s, p99 <= 1 s at 1,000 events/s; 5,000 clients all connected,
< 1 core. It stops with exit 3 (bench/harness.py) when fewer clients connected than asked or
the load generator could not keep its rate (a slow response is retried, a few times)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import psutil
import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.service import create_token
from bench.common import Load, migrated_database, raise_fd_limit, serve, stop
from bench.harness import Run


async def latency(base: str, tokens: dict[str, str], probes: int) -> list[float]:
    """Each probe is one more call waiting in the queue `probe` (known beforehand: a new queue
    makes the engine compute everything again); its frame is the one showing that many."""
    ws_url = base.replace("http", "ws") + "/api/v1/live?topics=center&token=" + tokens["admin"]
    out: list[float] = []
    async with (
        websockets.connect(ws_url, max_size=None) as ws,
        httpx.AsyncClient(
            headers={"Authorization": f"Bearer {tokens['ingest']}"}, timeout=10
        ) as client,
    ):

        async def probe(i: int) -> None:
            event = {
                "id": f"p{i}",
                "ts": datetime.now(UTC).isoformat(),
                "type": "call.queued",
                "call_id": f"pc{i}",
                "queue": "probe",
            }
            await client.post(f"{base}/api/v1/events", json=[event])

        async def waiting(want: int) -> None:
            while True:
                frame = orjson.loads(await ws.recv())
                today = ((frame.get("data") or {}).get("windows") or {}).get("today") or {}
                row = (today.get("queues") or {}).get("probe") or {}
                if row.get("waiting_now") == want:
                    return

        await probe(0)  # the queue exists before the first measured probe
        await waiting(1)
        for i in range(1, probes + 1):
            sent = time.monotonic()
            await probe(i)
            await waiting(i + 1)
            out.append(time.monotonic() - sent)
            await asyncio.sleep(0.2)
    return out


# N clients in one process. Between the lines "measure" and "stop" on its stdin it counts the
# bytes of the frames received by all, and for the first SAMPLE clients the size the full
# state would have had as each frame (patches applied as a screen does, app/live/topics.apply).
CLIENT = r"""
import asyncio, sys, threading, time, resource, orjson, websockets
from app.live.topics import apply
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
url, n, seconds, SAMPLE = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), 20
count = {"on": False, "bytes": 0, "full": 0, "frames": 0, "connected": 0}
def control():
    for line in sys.stdin:
        count["on"] = line.strip() == "measure"
        if line.strip() == "stop":
            print(orjson.dumps({k: v for k, v in count.items() if k != "on"}).decode(), flush=True)
threading.Thread(target=control, daemon=True).start()
async def one(i):
    state = {}
    async with websockets.connect(url, max_size=None, open_timeout=120) as ws:
        count["connected"] += 1
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=max(0.1, end - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if i < SAMPLE:
                f = orjson.loads(text)
                if f.get("kind") == "snapshot":
                    state[f["topic"]] = f["data"]
                elif f.get("kind") == "patch":
                    state[f["topic"]] = apply(state.get(f["topic"], {}), f["data"])
                if count["on"] and f.get("kind"):
                    count["full"] += len(orjson.dumps({**f, "kind": "snapshot",
                                                       "data": state[f["topic"]]}))
                elif count["on"]:
                    count["full"] += len(text)
            if count["on"]:
                count["bytes"] += len(text)
                count["frames"] += 1
async def main():
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(one(i)))
        if i % 200 == 199:
            await asyncio.sleep(0.2)
    print("connecting", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
asyncio.run(main())
"""


@dataclass
class FanOut:
    connected: int
    cpu: float  # the server process's cores
    seconds: float
    bytes_per_client: float  # per second, as sent
    full_per_client: float  # per second, had every frame been the full state
    frames_per_client: float  # per second


def fan_out(
    base: str, tokens: dict[str, str], server_pid: int, clients: int, seconds: float
) -> FanOut:
    url = base.replace("http", "ws") + "/api/v1/live?topics=center&token=" + tokens["wallboard"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CLIENT, url, str(clients), str(seconds + 240)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    assert proc.stdout is not None and proc.stdin is not None
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
    proc.stdin.write("measure\n")
    proc.stdin.flush()
    time.sleep(seconds)
    proc.stdin.write("stop\n")
    proc.stdin.flush()
    cpu = server.cpu_percent(None) / 100  # cores
    got = orjson.loads(proc.stdout.readline())
    proc.terminate()
    proc.communicate(timeout=120)
    sample = min(20, clients)
    return FanOut(
        connected=min(conns, got["connected"]),
        cpu=cpu,
        seconds=seconds,
        bytes_per_client=got["bytes"] / clients / seconds,
        full_per_client=got["full"] / sample / seconds,
        frames_per_client=got["frames"] / clients / seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--tick", type=float, default=0.25)  # the default of CALLBOARD_TICK_S
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--quick", action="store_true", help="500 clients, 20 probes, 10 s")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.probes, args.seconds = min(args.clients, 500), 20, 10
    run = Run("live", quick=args.quick)
    raise_fd_limit()
    with migrated_database() as database:
        with psycopg.connect(database.libpq) as conn:
            tokens = {r: create_token(conn, role=r) for r in ("admin", "ingest", "wallboard")}  # type: ignore[arg-type]
            conn.commit()
        try:
            proc, base = serve(
                database.url, database.folder, env={"CALLBOARD_TICK_S": str(args.tick)}
            )
        except RuntimeError as exc:
            run.fail(str(exc))
        try:
            measure(run, args, base, tokens, proc.pid)
        finally:
            stop(proc)
    run.finish()


def measure(
    run: Run, args: argparse.Namespace, base: str, tokens: dict[str, str], pid: int
) -> None:
    bg = Load(base, tokens["ingest"], args.rate, retries=4)
    bg.start()
    lat = asyncio.run(latency(base, tokens, args.probes))
    bg.stop()
    run.require(
        "the load generator kept its rate",
        not bg.is_alive() and bg.failed == 0 and bg.batches > 0,
        f"{bg.batches:,} batches sent, {bg.retried:,} retries, {bg.failed:,} lost",
    )
    run.require("every probe seen", len(lat) == args.probes, f"{len(lat)} of {args.probes}")
    run.figure(
        f"events/s the load generator achieved (asked {args.rate:,.0f})",
        bg.achieved,
        "/s",
        target=args.rate * 0.9,
        better="higher",
    )
    lat.sort()
    rate = f"{args.rate:,.0f} events/s, tick {args.tick} s"
    run.figure(f"event -> frame p50 ({rate})", statistics.median(lat), "s", target=0.25)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    run.figure(f"event -> frame p99 ({rate})", p99, "s", target=1.0)
    if not args.clients:
        return
    # one update a second for the fan-out: a batch of 20 events a second
    bg = Load(base, tokens["ingest"], 20, every=1.0, retries=4)
    bg.start()
    got = fan_out(base, tokens, pid, args.clients, args.seconds)
    bg.stop()
    run.require(
        "every client connected",
        got.connected >= args.clients,
        f"{got.connected:,} of {args.clients:,} connected",
    )
    run.require("the fan-out's load kept going", bg.failed == 0, f"{bg.failed} batches lost")
    n = f"{args.clients:,} clients, center"
    run.figure(f"server CPU ({n})", got.cpu, "cores", target=1.0)
    run.figure(f"frames per second per client ({n})", got.frames_per_client, "/s")
    run.figure(f"bytes per second per client, patches ({n})", got.bytes_per_client, "B/s")
    run.figure(
        f"bytes per second per client, had frames been full ({n})", got.full_per_client, "B/s"
    )


if __name__ == "__main__":
    main()
