"""Callbacks from two platform adapters reach the wall in a real browser: Amazon Connect
records POSTed to its route and a Genesys Cloud file imported by the command line, each a
caller who chose a callback a few minutes ago: the sales tile says "+ 2 callbacks"."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot
from tests.sources.callback_records import connect, genesys


def test_callbacks_from_two_platforms_show_on_the_wall(
    server: tuple[Server, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    srv, tokens = server
    now = datetime.now(UTC)
    records = [
        connect("QUEUED", "in1", queue="sales", initiated=now - timedelta(minutes=5)),
        connect(
            "QUEUED",
            "cb1",
            queue="sales",
            method="CALLBACK",
            previous="in1",
            initiated=now - timedelta(minutes=3),
        ),
    ]
    r = httpx.post(
        f"{srv.base}/api/v1/sources/amazon-connect?source=connect",
        content="\n".join(records),
        headers={"Authorization": f"Bearer {tokens['ingest']}"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["inserted"] == 2, r.text
    notifications = tmp_path / "genesys.jsonl"
    notifications.write_text(
        genesys("acd.start", "g1", now - timedelta(minutes=4), queue="sales")
        + "\n"
        + genesys("acd.start", "g1", now - timedelta(minutes=2), queue="sales", media="CALLBACK")
        + "\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "import",
            "genesys",
            str(notifications),
        ],
        env=srv.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{srv.base}/wall?token={tokens['wallboard']}")
    expect(page.locator("#callbacks-sales")).to_have_text("+ 2 callbacks", timeout=30000)
    expect(page.locator("#waiting-sales")).to_contain_text("0")  # nobody on the line
    shot(page, "wall-callbacks")
    page.close()
