"""The alerts renderer (dashboard/assets/alerts.js) in a real Chromium on a real server: the
wall banner at 1080p, the /sup list, and acknowledging from the list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from tests.alerts.conftest import TEAMS, queued
from tests.e2e.conftest import CHROMIUM, FLAGS, Server, shot


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium here: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def served(
    live_db: tuple[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Server, dict[str, str]]]:
    url, tokens = live_db
    config = tomli_w.dumps(
        {
            "queues": {"billing": {}},
            "teams": TEAMS,
            "alerts": [
                {
                    "name": "billing backlog",
                    "scope": "queue:billing",
                    "metric": "waiting_now",
                    "above": 2,
                    "severity": "critical",
                },
            ],
        }
    )
    srv = Server(url, tmp_path, config=config)
    srv.start()
    try:
        yield srv, tokens
    finally:
        srv.stop()


def active(srv: Server, token: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{srv.base}/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return list(r.json()["active"])


MOUNT = """async (token) => {
  const r = await fetch('/api/v1/alerts', {headers: {Authorization: 'Bearer ' + token}});
  const data = await r.json();
  const box = document.createElement('div');
  box.id = 'cb-alert-test';
  box.style.cssText = 'position:fixed;inset:0;z-index:9999;background:#0b1220';
  box.appendChild(callboard.alerts.dom(callboard.alerts.banner(data)));
  box.appendChild(callboard.alerts.dom(callboard.alerts.list(data, {ack: true})));
  document.body.appendChild(box);
  const line = box.querySelector('.cb-alert-line');
  const words = line.querySelector('.cb-alert-text');
  return {size: parseFloat(getComputedStyle(line).fontSize), text: line.textContent,
          width: words.scrollWidth, room: words.clientWidth,
          inside: words.getBoundingClientRect().right <= line.getBoundingClientRect().right};
}"""


def test_banner_readable_at_1080p_and_acknowledge_from_the_list(
    served: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = served
    srv.post(tokens["ingest"], queued(4, "e2e"))
    deadline = time.monotonic() + 20
    while not active(srv, tokens["admin"]) and time.monotonic() < deadline:
        time.sleep(0.2)  # no screen is open: the server's own runner evaluates
    [alert] = active(srv, tokens["admin"])
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(f"{srv.base}/sup?token={tokens['admin']}")
        page.wait_for_function("() => window.callboard && window.callboard.alerts")
        got = page.evaluate(MOUNT, tokens["admin"])
        # 7vh on a 1080p TV: about 75 px, letters some 5 cm tall on a 55" screen
        assert got["size"] >= 64
        assert got["text"] == "Queue billingbilling backlog: waiting now is 4, above 2"
        assert got["width"] <= got["room"] and got["inside"]  # the sentence wraps, never cut
        shot(page, "alerts-banner-1080p")
        page.click(f"[data-alert-ack='{alert['id']}']")
        page.wait_for_selector(f"#cb-alert-{alert['id']} .cb-alert-ackd")
        said = page.inner_text(f"#cb-alert-{alert['id']} .cb-alert-ackd")
        assert said.startswith("Acknowledged by admin at ")
    finally:
        page.close()
    [after] = active(srv, tokens["admin"])
    assert after["acknowledged_by"] == "admin" and after["acknowledged_at"]
