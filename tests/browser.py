"""The browser the screen tests drive, the Chinese font they need, and where screenshots go.

A browser is Debian's chromium (`/usr/bin/chromium`) or else Playwright's own Chromium;
`scripts/test-deps` (run by `make test`) gets one where it can. Without one the browser tests
skip with one line that says how to get it, and the same for the Chinese font.
Screenshots go to a temporary folder (`$CALLBOARD_SHOTS`, else <tmp>/callboard-screens); the
README's pictures in docs/screens/ are refreshed only by `make screenshots`
(CALLBOARD_DOCS_SCREENS=1), never by a test run."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

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
DEBIAN_CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("CALLBOARD_SHOTS") or Path(tempfile.gettempdir()) / "callboard-screens")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "screens"
NO_BROWSER = (
    "no Chromium: as root on Debian `apt-get install chromium`, elsewhere"
    " `.venv/bin/playwright install --with-deps chromium` (make test tries both)"
)
NO_CHINESE_FONT = "no Chinese font: `apt-get install fonts-noto-cjk` (make test tries it as root)"


def chinese_font() -> bool:
    """A font with Traditional (and so Simplified) Chinese, as fontconfig sees it."""
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(
        ["fc-list", ":lang=zh-tw", "family"], capture_output=True, text=True, check=False
    )
    return bool(found.stdout.strip())


def require_chinese_font() -> None:
    if not chinese_font():
        pytest.skip(NO_CHINESE_FONT)


@contextmanager
def launched() -> Iterator[Any]:
    """A headless Chromium for the duration (Playwright's sync API runs an event loop in this
    thread while it lives: keep it per module, so later asyncio.run tests find none)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        if Path(DEBIAN_CHROMIUM).exists():
            b = p.chromium.launch(executable_path=DEBIAN_CHROMIUM, args=FLAGS)
        elif Path(p.chromium.executable_path).exists():
            b = p.chromium.launch(args=FLAGS)
        else:
            pytest.skip(NO_BROWSER)
        try:
            yield b
        finally:
            b.close()


def shot(page: Any, name: str, *, docs: bool = False) -> Path:
    """A screenshot in the screenshots folder; with `docs` and CALLBOARD_DOCS_SCREENS=1
    (`make screenshots`), also the README's smaller copy in docs/screens/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    if docs and os.environ.get("CALLBOARD_DOCS_SCREENS") == "1":
        _small_copy(page, path, DOCS / f"{name}.png")
    return path


def _small_copy(page: Any, source: Path, target: Path, width: int = 720) -> None:
    """A smaller PNG for the README, scaled by the browser itself (no imaging library)."""
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


def charts_drawn(page: Any, timeout_ms: int = 60_000) -> None:
    """Wait until the page's charts are drawn. Plotly (4.8 MB) is parsed on the page's main
    thread once per page load, about 0.5 s on a quiet machine and several seconds on a loaded
    one; a test that times the page (ticking timers, a banner within 2 s) starts after it."""
    page.wait_for_function(
        "() => !document.querySelector('.chart')"
        " || (window.Plotly && document.querySelector('.chart .main-svg') !== null)",
        timeout=timeout_ms,
    )
