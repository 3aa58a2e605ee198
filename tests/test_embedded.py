"""The private PostgreSQL: started on demand, shared by processes on one data folder, stopped
by the last one to leave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

HOLD = """
import sys, time
from pathlib import Path
from app.db import EmbeddedServer
s = EmbeddedServer(Path(sys.argv[1]))
print(s.url, flush=True)
sys.stdin.readline()
s.close()
"""


def _hold(pgdata: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLD, str(pgdata)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _postmaster(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().split()[0])
    return pid if psutil.pid_exists(pid) else None


def _wait_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


def test_two_processes_share_one_server_and_the_last_stops_it(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    a = _hold(pgdata)
    url_a = a.stdout.readline() if a.stdout else ""
    server = _postmaster(pgdata)
    b = _hold(pgdata)
    url_b = b.stdout.readline() if b.stdout else ""
    assert url_a and url_a == url_b
    assert server is not None and _postmaster(pgdata) == server

    a.communicate("\n", timeout=60)
    assert _postmaster(pgdata) == server, "stopped while another process still used it"
    b.communicate("\n", timeout=60)
    assert _wait_gone(server), "the last process did not stop the server"


def test_a_killed_process_does_not_keep_the_server_alive_forever(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    a = _hold(pgdata)
    assert a.stdout and a.stdout.readline()
    server = _postmaster(pgdata)
    assert server is not None
    os.kill(a.pid, signal.SIGKILL)
    a.communicate()
    # the server outlives its killed owner; the next process adopts it and stops it when done
    b = _hold(pgdata)
    assert b.stdout and b.stdout.readline()
    assert _postmaster(pgdata) == server
    b.communicate("\n", timeout=60)
    assert _wait_gone(server)
