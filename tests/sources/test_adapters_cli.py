"""The adapters' commands as a user runs them: a real process, a real database, and for the
live ones a fake server on loopback."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import libpq
from tests.sources.test_ami import _fake_ami
from tests.test_cli import CALLBOARD, migrated, run

SAMPLES = Path(__file__).parent / "samples"
__all__ = ["migrated"]


def test_import_ami_stores_once_and_names_the_bad_message(migrated: str, tmp_path: Path) -> None:
    first = run(
        ["import", "ami", str(SAMPLES / "ami" / "floor.ami"), "--source", "pbx1"],
        migrated,
        tmp_path,
    )
    again = run(
        ["import", "ami", str(SAMPLES / "ami" / "floor.ami"), "--source", "pbx1"],
        migrated,
        tmp_path,
    )
    out = json.loads(first.stdout)
    assert first.returncode == 1  # one message was rejected
    assert out["errors"] == [
        {
            "position": "line 307",
            "reason": "line 307: not a `Key: Value` line: 'this line is broken'",
        }
    ]
    assert out["by_type"]["call.queued"] == 5 and out["inserted"] == out["events"]
    assert json.loads(again.stdout)["inserted"] == 0
    with psycopg.connect(libpq(migrated)) as conn:
        (n,) = conn.execute("SELECT count(DISTINCT call_id) FROM contact_segments").fetchone() or (
            0,
        )
    assert n == 4


@pytest.fixture
def fake_ami() -> Iterator[tuple[int, list[str]]]:
    loop = asyncio.new_event_loop()
    logins: list[str] = []
    handlers: list[asyncio.Task[None]] = []
    text = (SAMPLES / "ami" / "floor.ami").read_text().removeprefix("Asterisk Call Manager/9.0.0\n")
    server, port = loop.run_until_complete(_fake_ami([text], logins, handlers))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port, logins
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        server.close()
        loop.run_until_complete(server.wait_closed())
        for task in handlers:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*handlers, return_exceptions=True))
        loop.close()


def test_consume_ami_stores_until_sigterm(
    migrated: str, tmp_path: Path, fake_ami: tuple[int, list[str]]
) -> None:
    import os

    port, logins = fake_ami
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    env = {**os.environ, "DATABASE_URL": migrated, "CALLBOARD_DATA_DIR": str(tmp_path / "d")}
    proc = subprocess.Popen(
        [
            *CALLBOARD,
            "consume",
            "ami",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--username",
            "callboard",
            "--secret-file",
            str(secret),
            "--source",
            "pbx1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        stored: Any = 0
        while time.monotonic() < deadline and stored < 5:
            time.sleep(0.3)
            with psycopg.connect(libpq(migrated)) as conn:
                (stored,) = conn.execute(
                    "SELECT count(*) FROM events WHERE type = 'call.queued'"
                ).fetchone() or (0,)
        proc.send_signal(signal.SIGTERM)
        out, errs = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert stored == 5, errs
    assert proc.returncode == 0, errs
    assert logins and logins[0] == "s3cret"
    summary = json.loads(out)
    assert summary["by_type"]["call.queued"] >= 5
