"""Two uvicorn workers: each runs its own hub on the same NOTIFY, so a client on either worker
sees fresh data; nothing lives in only one process."""

from __future__ import annotations

import json
import os
import socket
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_workers(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    url, tokens = live_db
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CALLBOARD_PORT": str(port),
        "CALLBOARD_DATA_DIR": str(tmp_path),
        "CALLBOARD_TICK_S": "0.2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError("server did not start")
        yield base, tokens
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()


def _frame(ws: ClientConnection, topic: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["topic"] == topic:
            return frame


def test_clients_of_both_workers_see_fresh_data(two_workers: tuple[str, dict[str, str]]) -> None:
    base, tokens = two_workers
    ws_url = (
        base.replace("http", "ws") + f"/api/v1/live?topics=queue:billing&token={tokens['admin']}"
    )
    clients: list[tuple[int, ClientConnection]] = []
    workers: set[int] = set()
    with ExitStack() as stack:
        for n in range(120):  # the kernel spreads connections over the workers
            ws = stack.enter_context(connect(ws_url))
            pid = _frame(ws, "_heartbeat")["data"]["worker"]
            clients.append((pid, ws))
            workers.add(pid)
            if len(workers) == 2 and len(clients) >= 4:
                break
            if n >= 20:  # one worker busy (the leader's first computations): let it accept
                time.sleep(0.1)
        assert len(workers) == 2, "every connection went to one worker"
        for _, ws in clients:
            _frame(ws, "queue:billing")  # the first snapshot
        now = datetime.now(UTC).isoformat()
        r = httpx.post(
            f"{base}/api/v1/events",
            headers={"Authorization": f"Bearer {tokens['ingest']}"},
            json=[
                {"id": "w1", "ts": now, "type": "call.queued", "call_id": "wc1", "queue": "billing"}
            ],
        )
        assert r.json()["inserted"] == 1
        for pid, ws in clients:
            deadline = time.monotonic() + 10
            while True:
                frame = _frame(ws, "queue:billing")
                today = frame["data"].get("windows", {}).get("today", {})  # patches: what changed
                queue = today.get("queue") or {}
                if queue.get("waiting_now") == 1:
                    break
                assert time.monotonic() < deadline, f"worker {pid} did not push the change"
