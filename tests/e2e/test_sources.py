"""Source health on the screens, in a real browser against a real server and PostgreSQL: a
source goes silent past its `max_silence_s`; the supervisor's panel and header say which one
(colour, glyph and word), the wallboard and the agent widget say the figures may be behind
without naming it; when events come again, every screen recovers by itself. Screenshots land
in the screenshots folder (tests/browser.py)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CONFIG, Server, shot
from tests.e2e.test_screens import _at, busy_floor, fits
from tests.sources.test_follow import call
from tests.test_cli import CALLBOARD

SILENCE_S = 12  # the `api` source's limit: POST /api/v1/events counts as the source `api`

# the screens' own staleness (no new figures for 4 s in CONFIG) is another matter, tested in
# test_screens.py: here the screens stay live while a source is quiet for longer than that
SOURCES_CONFIG = (
    CONFIG.replace("stale_after_s = 4", "stale_after_s = 30")
    + f"""
[sources.api]
max_silence_s = {SILENCE_S}

[sources.pbx]
max_silence_s = 300
"""
)


@pytest.fixture
def watched(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    url, tokens = live_db
    srv = Server(url, tmp_path, SOURCES_CONFIG)
    srv.start()
    try:
        yield srv, tokens
    finally:
        srv.stop()


def _one_more(srv: Server, token: str, n: int) -> None:
    srv.post(
        token,
        [
            {
                "id": f"more{n}",
                "ts": _at(0),
                "type": "call.queued",
                "call_id": f"m{n}",
                "queue": "sales",
            }
        ],
    )


def test_a_silent_source_is_stale_on_every_screen_and_recovers(
    watched: tuple[Server, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    srv, tokens = watched
    srv.post(tokens["ingest"], busy_floor())

    sup = browser.new_page(viewport={"width": 1440, "height": 900})
    sup.goto(f"{srv.base}/sup?token={tokens['north']}")
    api = sup.locator("#table-sources tr[data-source=api]")
    pbx = sup.locator("#table-sources tr[data-source=pbx]")
    expect(api.locator(".src-status")).to_have_text("✔ live", timeout=20_000)
    # what was posted, counted: stored, nothing rejected
    assert api.locator("td").nth(6).inner_text() == f"{len(busy_floor()):,}"
    assert api.locator("td").nth(8).inner_text() == "0"
    # configured and never heard from: stale from the start, in words; the header names it
    expect(pbx.locator(".src-status")).to_have_text("✖ STALE · never heard from")
    expect(sup.locator("#sources-mark")).to_have_text("✖ stale source: pbx")

    # api speaks again, so that only pbx is behind while the wall opens (however long the
    # pages above took on a busy machine: api's silence limit is SILENCE_S)
    _one_more(srv, tokens["ingest"], 100)
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{srv.base}/wall/floor2?token={tokens['wallboard']}")
    expect(wall.locator("#tile-claims")).to_be_visible(timeout=20_000)
    # the wall says the figures may be behind, and names no source
    behind = wall.locator("#feed-behind")
    expect(behind).to_contain_text("FIGURES MAY BE BEHIND")
    expect(behind).to_contain_text("a data source has not been heard from yet")
    assert "pbx" not in wall.locator("#screen").inner_text()
    agent = browser.new_page(viewport={"width": 360, "height": 480})
    agent.goto(f"{srv.base}/agent/a1?token={tokens['a1']}")
    expect(agent.locator("#feed-behind")).to_contain_text("FIGURES MAY BE BEHIND", timeout=20_000)

    # 1. pbx speaks (its queue_log imported by the command line) and api again: all is well
    log = tmp_path / "queue_log"
    log.write_text(call(0))
    done = subprocess.run(
        [*CALLBOARD, "import", "queue-log", str(log), "--source", "pbx"],
        env={**srv.env, "CALLBOARD_DATA_DIR": str(tmp_path / "cli")},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    _one_more(srv, tokens["ingest"], 0)
    heard = time.monotonic()
    expect(pbx.locator(".src-status")).to_have_text("✔ live", timeout=20_000)
    expect(sup.locator("#sources-mark")).to_have_count(0)
    expect(behind).to_have_count(0, timeout=20_000)
    expect(agent.locator("#feed-behind")).to_have_count(0, timeout=20_000)
    shot(sup, "sup-sources-1440")
    sup.set_viewport_size({"width": 1920, "height": 1080})
    shot(sup, "sup-sources-1920")

    # 2. api falls silent past its limit
    left = SILENCE_S - (time.monotonic() - heard)
    expect(api).to_have_class("src-row src-stale", timeout=(left + 15) * 1000)
    assert time.monotonic() - heard > SILENCE_S
    expect(api.locator(".src-status")).to_have_text("✖ STALE")
    expect(sup.locator("#sources-mark")).to_have_text("✖ stale source: api")
    # colour as well as the words: the row is tinted
    tint = api.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert tint not in ("rgba(0, 0, 0, 0)", "transparent"), tint
    silent = api.locator("td").nth(2).inner_text()
    time.sleep(2.2)
    assert api.locator("td").nth(2).inner_text() != silent, "the silence grows between frames"
    shot(sup, "sup-sources-stale-1920")
    sup.set_viewport_size({"width": 1440, "height": 900})
    time.sleep(0.5)
    shot(sup, "sup-sources-stale-1440", docs=True)

    # the longest words (Russian) still fit the panel at 1440 x 900, the stale row in words
    ru = browser.new_page(viewport={"width": 1440, "height": 900})
    ru.goto(f"{srv.base}/sup?lang=ru&token={tokens['admin']}")
    expect(ru.locator("#table-sources tr[data-source=api] .src-status")).to_have_text(
        "✖ МОЛЧИТ", timeout=20_000
    )
    expect(ru.locator("#sources-mark")).to_have_text("✖ источник молчит: api")
    wide = ru.evaluate(
        "(() => { const l = document.querySelector('.sup-left');"
        " return [l.scrollWidth, l.clientWidth]; })()"
    )
    assert wide[0] <= wide[1], wide
    shot(ru, "sup-sources-stale-ru-1440")
    ru.close()

    expect(behind).to_contain_text("FIGURES MAY BE BEHIND", timeout=20_000)
    expect(behind).to_contain_text("a data source has sent nothing for over")
    assert "api" not in behind.inner_text()
    box = behind.bounding_box()
    assert box is not None and box["height"] >= 30  # readable from 5 m on a 1080p TV
    assert fits(wall) == []
    shot(wall, "wall-source-stale-16x9", docs=True)
    for name, (w, h) in (("9x16", (1080, 1920)), ("4x3", (1024, 768))):
        wall.set_viewport_size({"width": w, "height": h})
        time.sleep(0.5)
        assert fits(wall) == [], name
        shot(wall, f"wall-source-stale-{name}")
    expect(agent.locator("#feed-behind")).to_be_visible(timeout=20_000)
    assert agent.evaluate("document.documentElement.scrollHeight") <= 480
    assert agent.evaluate("document.documentElement.scrollWidth") <= 360
    shot(agent, "agent-source-stale")
    # the screens themselves stayed live all along: only a source is quiet
    assert not wall.evaluate("document.body.classList.contains('stale')")

    # 3. events again: every screen recovers by itself
    _one_more(srv, tokens["ingest"], 1)
    expect(api.locator(".src-status")).to_have_text("✔ live", timeout=20_000)
    expect(api).to_have_class("src-row")
    expect(sup.locator("#sources-mark")).to_have_count(0)
    expect(behind).to_have_count(0, timeout=20_000)
    expect(agent.locator("#feed-behind")).to_have_count(0, timeout=20_000)
    for page in (sup, wall, agent):
        page.close()


def test_wallboard_and_agent_tokens_cannot_follow_the_sources_topic(
    watched: tuple[Server, dict[str, str]],
) -> None:
    """Over a real socket to the real server: 4403 for the sources topic, whatever is asked
    beside it; the feed topic (no source named) is theirs, the sources topic a supervisor's."""
    import websockets.sync.client as ws
    from websockets.exceptions import ConnectionClosed

    srv, tokens = watched
    base = srv.base.replace("http", "ws") + "/api/v1/live"

    def first(topics: str, token: str) -> tuple[int | None, str | None]:
        """(close code, None), or (None, the first data frame's topic)."""
        with ws.connect(f"{base}?topics={topics}&token={token}") as sock:
            try:
                while True:
                    frame = json.loads(sock.recv(timeout=20))
                    if frame["topic"] != "_heartbeat":
                        return None, str(frame["topic"])
            except ConnectionClosed as closed:
                return (closed.rcvd.code if closed.rcvd else None), None

    for who, topics in (
        ("wallboard", "sources"),
        ("a1", "sources"),
        ("wallboard", "center,sources"),
        ("a1", "agent:a1,feed,sources"),
    ):
        assert first(topics, tokens[who]) == (4403, None), (who, topics)
    assert first("feed", tokens["wallboard"]) == (None, "feed")
    assert first("feed", tokens["a1"]) == (None, "feed")
    assert first("sources", tokens["north"]) == (None, "sources")
