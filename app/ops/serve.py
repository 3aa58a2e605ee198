"""`callboard serve`: uvicorn with a bounded shutdown, and the embedded PostgreSQL watched."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from app.ops.postmaster import PostmasterWatch, arm_deadline, exit_code
from app.settings import Settings

GRACEFUL_S = 3  # in-flight requests get this long after SIGTERM; then they are cancelled


class _Server(uvicorn.Server):
    """uvicorn's server, which on the first SIGTERM / SIGINT also arms the hard deadline."""

    embedded: Any = None
    _armed = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self._armed:
            self._armed = True
            arm_deadline(self.embedded)
        super().handle_exit(sig, frame)


def run(settings: Settings, *, port: int | None, workers: int, embedded: Any | None) -> int:
    """Serve until stopped; the exit code (non-zero when the embedded database gave up)."""
    watch = None
    if embedded is not None:
        status = Path(embedded.pgdata).parent / "postmaster-status.json"
        os.environ["CALLBOARD_EMBEDDED_STATUS"] = str(status)
        watch = PostmasterWatch(embedded, status)
        watch.start()
    options: dict[str, Any] = {
        "factory": True,
        "host": settings.host,
        "port": port or settings.port,
        "log_level": "info",
        "ws_ping_interval": 20,
        "timeout_graceful_shutdown": GRACEFUL_S,
    }
    # uvicorn restores this handler and re-raises SIGTERM after its shutdown: exit with the
    # watcher's code (70: the embedded database gave up) or 143, after every cleanup
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(exit_code.value or 143))
    try:
        if workers == 1:
            server = _Server(uvicorn.Config("app.main:create_app", **options))
            server.embedded = embedded
            server.run()
        else:
            uvicorn.run("app.main:create_app", workers=workers, **options)
    finally:
        if watch is not None:
            watch.stop()
    return exit_code.value
