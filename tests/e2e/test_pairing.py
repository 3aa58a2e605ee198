"""Issue 25: a TV paired, not pasted, in real headless Chromium against a real server. The TV
shows a code; an admin pairs it; that browser, and only that one, opens its wallboard (and
no other); unpairing ends it."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.browser import shot


def test_a_tv_pairs_and_unpairs(server: Any, browser: Any) -> None:
    srv, tokens = server
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    tv = browser.new_context(viewport={"width": 1920, "height": 1080})
    other = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = tv.new_page()
        page.goto(f"{srv.base}/wall/floor2")
        code = page.locator("#pair-code").inner_text()
        assert re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}", code), code
        shot(page, "pairing-tv-code")
        # a TV that is not paired reads nothing
        assert not [c for c in tv.cookies() if c["name"] == "callboard_token"]
        second = other.new_page()
        second.goto(f"{srv.base}/wall/floor2")
        other_code = second.locator("#pair-code").inner_text()
        assert other_code != code

        with httpx.Client(base_url=srv.base, headers=admin, timeout=10) as api:
            wrong = api.post(
                "/api/v1/wallboards/pair", json={"code": "AAA-AAA", "wallboard": "floor2"}
            )
            assert wrong.status_code == 404
            r = api.post(
                "/api/v1/wallboards/pair", json={"code": code.lower(), "wallboard": "floor2"}
            )
            assert r.status_code == 200, r.text
            page.wait_for_url(f"{srv.base}/wall/floor2", timeout=15_000)
            page.wait_for_selector("#pair-code", state="detached", timeout=15_000)
            # its live socket opens (the handshake's Origin is the served host)
            page.wait_for_function(
                "!document.body.innerText.includes('connecting')", timeout=30_000
            )
            shot(page, "pairing-tv-paired")
            cookie = {c["name"]: c for c in tv.cookies()}["callboard_token"]
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            # only that browser: the other TV still shows its own code
            second.wait_for_timeout(2500)
            assert second.locator("#pair-code").inner_text() == other_code
            # that wallboard only
            as_tv = httpx.Client(
                base_url=srv.base, cookies={"callboard_token": cookie["value"]}, timeout=10
            )
            assert as_tv.get("/wall/floor2").status_code == 200
            assert as_tv.get("/wall").status_code == 403
            listed = api.get("/api/v1/wallboards/pairings").json()
            assert [p["wallboard"] for p in listed] == ["floor2"]

            ended = api.delete("/api/v1/wallboards/floor2/pairings")
            assert ended.status_code == 200 and len(ended.json()) == 1
            t0 = time.monotonic()
            while as_tv.get("/api/v1/me").status_code != 401 and time.monotonic() - t0 < 10:
                time.sleep(0.2)
            assert as_tv.get("/api/v1/me").status_code == 401
            assert as_tv.get("/wall/floor2").status_code == 401  # back to a pairing code
            as_tv.close()
            audit = api.get("/api/v1/audit?action=wall").json()
            assert [e["action"] for e in audit] == ["wall.unpair", "wall.pair"]
            assert audit[1]["target"] == "floor2"
        page.reload()
        assert page.locator("#pair-code").inner_text()
    finally:
        tv.close()
        other.close()
