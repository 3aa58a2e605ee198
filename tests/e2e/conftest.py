"""A real server process and a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import DEBIAN_CHROMIUM, FLAGS, SHOTS, launched, shot

__all__ = ["ARTIFACTS", "CHROMIUM", "FLAGS", "Server", "shot"]

CHROMIUM = DEBIAN_CHROMIUM
ARTIFACTS = SHOTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# the teams of tests/conftest.py::LIVE_TEAMS, wallboards, and a short staleness limit
CONFIG = """
[teams.north]
agents = ["a1", "a2"]
[teams.south]
agents = ["a3"]

[queues.billing]
targets = { service_level = 0.8 }

[screens]
stale_after_s = 4

[wallboards.floor2]
title = "Floor 2"
queues = ["billing", "sales", "support", "claims"]
rotation_s = 30
"""


class Server:
    def __init__(self, url: str, data_dir: Path, config: str = CONFIG) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        path = data_dir / "callboard.toml"
        path.write_text(config, encoding="utf-8")
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "CALLBOARD_PORT": str(self.port),
            "CALLBOARD_DATA_DIR": str(data_dir),
            "CALLBOARD_TICK_S": "0.2",
            "CALLBOARD_CONFIG": str(path),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:  # a slow shutdown must not wedge the tests
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def post(self, token: str, events: list[dict[str, Any]]) -> None:
        r = httpx.post(
            f"{self.base}/api/v1/events",
            json=events,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["rejected"] == 0, r.text


@pytest.fixture
def server(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    url, tokens = live_db
    srv = Server(url, tmp_path)
    srv.start()
    try:
        yield srv, tokens
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: Playwright's sync API runs an event loop in this thread while it lives, and
    later tests that start their own (asyncio.run) must not find it still running."""
    with launched() as b:
        yield b
