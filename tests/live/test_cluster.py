"""Two `serve` processes on different ports: one leader computes, both send identical frames,
and when the leader dies the other takes over within two ticks."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from app.live.topics import apply
from tests.live.test_workers import _free_port

TICK_S = 1.0


@pytest.fixture
def two_servers(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[list[tuple[str, subprocess.Popen[bytes]]], dict[str, str]]]:
    url, tokens = live_db
    servers: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for n in range(2):
            port = _free_port()
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "CALLBOARD_PORT": str(port),
                "CALLBOARD_DATA_DIR": str(tmp_path / str(n)),
                "CALLBOARD_TICK_S": str(TICK_S),
            }
            proc = subprocess.Popen(
                [sys.executable, "-c", "from app.cli import main; main()", "serve"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append((f"http://127.0.0.1:{port}", proc))
        for base, _ in servers:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield servers, tokens
    finally:
        for _, proc in servers:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)


def _post(base: str, token: str, n: int, prefix: str) -> None:
    now = datetime.now(UTC).isoformat()
    events = [
        {
            "id": f"{prefix}{i}",
            "ts": now,
            "type": "call.queued",
            "call_id": f"{prefix}{i}",
            "queue": "billing",
        }
        for i in range(n)
    ]
    r = httpx.post(
        f"{base}/api/v1/events", headers={"Authorization": f"Bearer {token}"}, json=events
    )
    assert r.json()["inserted"] == n, r.text


def _frames_until(
    ws: ClientConnection, state: dict[str, Any], waiting: int, timeout: float = 15
) -> list[dict[str, Any]]:
    """Frames of queue:billing until its state shows `waiting` contacts waiting."""
    frames = []
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["topic"] != "queue:billing":
            continue
        frames.append(frame)
        new = frame["data"] if frame["kind"] == "snapshot" else apply(state["s"], frame["data"])
        state["s"] = new
        queue = new["windows"]["today"]["queue"] or {}
        if queue.get("waiting_now") == waiting:
            return frames
        assert time.monotonic() < deadline, f"no state with {waiting} waiting"


def test_two_servers_send_identical_frames_and_one_takes_over(two_servers: Any) -> None:
    servers, tokens = two_servers
    leaders = [httpx.get(f"{b}/healthz").json()["live"]["leader"] for b, _ in servers]
    assert sorted(leaders) == [False, True], leaders
    with ExitStack() as stack:
        clients = [
            stack.enter_context(
                connect(
                    base.replace("http", "ws")
                    + f"/api/v1/live?topics=queue:billing&token={tokens['wallboard']}"
                )
            )
            for base, _ in servers
        ]
        states: list[dict[str, Any]] = [{}, {}]
        seen: list[list[dict[str, Any]]] = [[], []]
        for round_ in range(1, 4):
            _post(servers[0][0], tokens["ingest"], 1, f"r{round_}-")
            for i, ws in enumerate(clients):
                seen[i] += _frames_until(ws, states[i], round_)
        by_seq = [{f["seq"]: f for f in frames} for frames in seen]
        common = sorted(by_seq[0].keys() & by_seq[1].keys())
        assert len(common) >= 3
        # a frame is the same on both servers when both clients had the same before it
        compared = 0
        for before, seq in itertools.pairwise(common):
            a, b = by_seq[0][seq], by_seq[1][seq]
            if a["kind"] == b["kind"] == "patch" and {before} == {
                max(s for s in by_seq[0] if s < seq),
                max(s for s in by_seq[1] if s < seq),
            }:
                assert a == b
                compared += 1
        assert compared >= 1
        assert states[0] == states[1]

        # the leader dies: the other server leads within two ticks and keeps its clients fresh
        leader = leaders.index(True)
        follower = 1 - leader
        servers[leader][1].send_signal(signal.SIGKILL)
        servers[leader][1].wait(timeout=10)
        killed = time.monotonic()
        base = servers[follower][0]
        while not httpx.get(f"{base}/healthz").json()["live"]["leader"]:
            assert time.monotonic() - killed < 10, "nobody took over"
            time.sleep(0.05)
        took = time.monotonic() - killed
        _post(base, tokens["ingest"], 1, "after-")
        _frames_until(clients[follower], states[follower], 4)
    assert took <= 2 * TICK_S + 0.5, f"take-over took {took:.2f} s"
