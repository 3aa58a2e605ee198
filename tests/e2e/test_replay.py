"""Replay in a real Chromium against a real server: /sup?at= shows the moment marked REPLAY
with its clock frozen and no socket, the slider replays another moment, "Back to live" opens
the socket again; /wall?at= speaks the board's language."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.browser import require_chinese_font
from tests.e2e.conftest import Server, shot

NOW = datetime.now(UTC).replace(microsecond=0)
B = NOW - timedelta(minutes=40)


def _events() -> list[dict[str, Any]]:
    def e(minute: float, type_: str, **f: Any) -> dict[str, Any]:
        ts = (B + timedelta(minutes=minute)).isoformat()
        return {
            "id": f"r{minute}-{type_}-{f.get('call_id', f.get('agent'))}",
            "ts": ts,
            "type": type_,
            **f,
        }

    out = [
        e(0, "agent.state", agent="a1", state="available", queues=["billing"]),
        e(0, "agent.state", agent="a2", state="available", queues=["billing"]),
        e(0, "agent.state", agent="a3", state="available", queues=["sales"]),
    ]
    for i in range(12):  # a contact every 2 minutes, each answered a minute later
        call, queue = f"k{i}", ("billing", "sales")[i % 2]
        agent = ("a1", "a3", "a2", "a3")[i % 4]
        out += [
            e(2 * i + 0.5, "call.queued", call_id=call, queue=queue, customer=f"c{i}"),
            e(2 * i + 1, "call.answered", call_id=call, queue=queue, agent=agent),
            e(2 * i + 1.8, "call.ended", call_id=call, queue=queue, agent=agent),
            e(2 * i + 1.9, "call.wrapped", call_id=call, queue=queue, agent=agent),
        ]
    return out


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def test_sup_replays_a_moment_moves_with_the_slider_and_goes_back_to_live(
    server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = server
    srv.post(tokens["ingest"], _events())
    at = B + timedelta(minutes=10, seconds=45)  # k5 waiting, k4 talking
    api = httpx.get(
        f"{srv.base}/api/v1/screens/replay",
        params={"screen": "sup", "at": _iso(at)},
        headers={"Authorization": f"Bearer {tokens['admin']}"},
        timeout=20,
    ).json()
    waiting = api["topics"]["center"]["view"]["center"]["waiting"]["value"]
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        page.goto(f"{srv.base}/sup?token={tokens['admin']}&lang=en&at={_iso(at)}")
        page.wait_for_selector("#replay-bar .mark", timeout=20_000)
        page.wait_for_selector("#center-line", timeout=20_000)
        page.wait_for_selector("#table-contacts", timeout=20_000)
        # the drill-down is the moment's too: the contact still waiting then is listed waiting
        assert "waiting" in page.inner_text("#table-contacts tbody tr:first-child")
        mark = page.inner_text("#replay-bar .mark")
        assert "REPLAY" in mark and re.search(r"\d{1,2}:\d{2}:\d{2}", mark), mark
        assert "replay" in page.get_attribute("#freshness", "class")
        assert page.inner_text("#center-line").split(" · ")[-1].startswith(str(int(waiting)))
        frozen = page.evaluate("window.callboard.now()")
        time.sleep(1.2)
        assert page.evaluate("window.callboard.now()") == frozen == at.timestamp() * 1000
        assert not sockets, "a replay opens no live socket"
        shot(page, "replay-sup")

        # the slider: a minute earlier with the keyboard, as a supervisor would nudge it
        page.focus("#replay-slider")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            "(was) => new URL(location.href).searchParams.get('at') !== was", arg=_iso(at)
        )
        moved = page.evaluate("new URL(location.href).searchParams.get('at')")
        assert datetime.fromisoformat(moved) < at
        page.wait_for_function(
            "(was) => document.querySelector('#replay-bar .mark').textContent.indexOf(was) < 0",
            arg=mark.split(", ")[-1],
        )
        assert not sockets
        page.wait_for_selector("#table-contacts", timeout=20_000)  # the drill-down followed
        shot(page, "replay-sup-moved")

        # back to live: the mark goes, the socket opens, the address has no moment
        page.click("#replay-bar button")
        page.wait_for_selector("#replay-bar", state="detached", timeout=10_000)
        page.wait_for_function("window.callboard.connected === true", timeout=20_000)
        assert sockets and "at=" not in page.url
        page.wait_for_selector("#freshness.live", timeout=20_000)
        shot(page, "replay-sup-live")
    finally:
        page.close()


def test_the_wall_replays_in_the_board_language(
    server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    require_chinese_font()
    srv, tokens = server
    srv.post(tokens["ingest"], _events())
    at = B + timedelta(minutes=20)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(f"{srv.base}/wall?token={tokens['wallboard']}&lang=zh-CN&at={_iso(at)}")
        page.wait_for_selector("#freshness.replay", timeout=20_000)
        assert page.inner_text("#freshness").startswith("回放 · ")
        page.wait_for_selector(".wall-trend .main-svg", timeout=20_000)
        assert "返回实时" in page.inner_text("#replay-bar")
        shot(page, "replay-wall-zh-CN")
        for lang, word in (("zh-TW", "重播 · "), ("ru", "ПОВТОР · "), ("en", "REPLAY · ")):
            page.goto(f"{srv.base}/wall?token={tokens['wallboard']}&lang={lang}&at={_iso(at)}")
            page.wait_for_selector("#freshness.replay", timeout=20_000)
            assert page.inner_text("#freshness").startswith(word)
    finally:
        page.close()
