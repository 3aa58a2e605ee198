"""A real server process and a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screens"


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
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium here: .ci/run installs Debian's (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def shot(page: Any, name: str, *, docs: bool = False) -> Path:
    """A screenshot in artifacts/screens/ (and, for the README, a small copy in docs/screens/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if docs:
        _small_copy(page, path, DOCS / f"{name}.png")
    return path


def _small_copy(page: Any, source: Path, target: Path, width: int = 720) -> None:
    """A smaller PNG for the README, scaled by the browser itself (no imaging library)."""
    import base64

    target.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    scale = min(1.0, width / size["width"])
    w, h = round(size["width"] * scale), round(size["height"] * scale)
    data = base64.b64encode(source.read_bytes()).decode()
    small = page.context.browser.new_page(viewport={"width": w, "height": h})
    try:
        small.set_content(
            f"<body style='margin:0'><img style='width:{w}px;height:{h}px;display:block'"
            f" src='data:image/png;base64,{data}'></body>"
        )
        small.screenshot(path=str(target))
    finally:
        small.close()
