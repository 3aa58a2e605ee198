"""What the server benches share: a free port, the file limit, a real `callboard serve` on a
database, and a load generator that survives a slow response and says how much it sent."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import httpx

from app import db, migrate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Database(NamedTuple):
    folder: str  # a temporary folder: the database's files and anything else the bench keeps
    url: str  # SQLAlchemy's form (what `callboard` takes as DATABASE_URL)
    libpq: str  # psycopg's and libpq's form

    @property
    def pgdata(self) -> Path:
        """The embedded PostgreSQL's data folder (its postmaster.pid says which process)."""
        return Path(self.folder) / "pg"


@contextmanager
def migrated_database() -> Iterator[Database]:
    """A private embedded PostgreSQL in a temporary folder, migrated to this code's schema,
    stopped and removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        server = db.EmbeddedServer(Path(tmp) / "pg")
        try:
            engine = db.make_engine(server.url)
            with engine.begin() as c:
                migrate.upgrade(c)
            engine.dispose()
            yield Database(tmp, server.url, db.libpq_url(server.url))
        finally:
            server.close()


def serve(
    url: str, data_dir: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`callboard serve` on `url`; returns once /healthz answers 200 (or raises RuntimeError)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve"]
        + (["--workers", str(workers)] if workers != 1 else []),
        env={
            **os.environ,
            "DATABASE_URL": url,
            "CALLBOARD_PORT": str(port),
            "CALLBOARD_DATA_DIR": data_dir,
            **(env or {}),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=raise_fd_limit,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"callboard serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError("callboard serve did not answer /healthz within 120 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Load(threading.Thread):
    """A steady background of `call.queued` events over `queues` queues, posted every `every`
    seconds: what is due by then, so a slow response makes the next batch larger, not the rate
    lower. A failed response is retried (at most `retries` times per batch, the same ids:
    ingest is idempotent), never the end of the load; `sent`, `batches`, `retried`, `failed`,
    `stored`, `duplicates`, `achieved` and `rate()` say what it did, so a bench can check it did
    the work it claims. Event and call ids are this load's own (a prefix drawn at random): a
    second load on the same database sends new events, not duplicates that store nothing."""

    def __init__(
        self,
        base: str,
        token: str,
        rate: float,
        *,
        queues: int = 10,
        retries: int = 5,
        timeout: float = 10.0,
        every: float = 0.1,
    ) -> None:
        super().__init__(daemon=True, name="load")
        self.base, self.token, self.target_rate, self.every = base, token, rate, every
        self.per_batch = max(1, int(rate * every))
        self.queues, self.retries, self.timeout = queues, retries, timeout
        self.halt = threading.Event()
        self.sent = 0  # events accepted (stored or duplicates of a retried batch)
        self.batches = 0  # batches accepted
        self.retried = 0  # requests sent again
        self.failed = 0  # batches given up after their retries
        self.stored = 0  # events the server stored as new
        self.duplicates = 0  # events the server already had (a retry of a batch it stored)
        self.prefix = f"bg{uuid.uuid4().hex[:8]}-"
        self.started = self.ended = 0.0
        self.errors: list[str] = []
        self._marks: list[tuple[float, int]] = []

    def run(self) -> None:
        try:
            self._run()
        finally:
            self.ended = time.monotonic()

    @property
    def achieved(self) -> float:
        """Events accepted per second over the whole run."""
        return self.sent / max(1e-9, (self.ended or time.monotonic()) - self.started)

    def _run(self) -> None:
        n = 0
        start = self.started = time.monotonic()
        auth = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(headers=auth, timeout=self.timeout) as c:
            while not self.halt.is_set():
                t0 = time.monotonic()
                # what is due by now: a slow response makes the next batch larger, not the
                # rate lower
                due = min(int(self.target_rate * (t0 - start)) - n, 50 * self.per_batch)
                if due > 0:
                    now = datetime.now(UTC).isoformat()
                    batch = [
                        {
                            "id": f"{self.prefix}{n + i}",
                            "ts": now,
                            "type": "call.queued",
                            "call_id": f"{self.prefix}c{n + i}",
                            "queue": f"bg{(n + i) % self.queues}",
                        }
                        for i in range(due)
                    ]
                    n += len(batch)
                    if self._post(c, batch):
                        self.sent += len(batch)
                        self.batches += 1
                    else:
                        self.failed += 1
                    self._marks.append((time.monotonic(), self.sent))
                self.halt.wait(max(0.0, self.every - (time.monotonic() - t0)))

    def _post(self, client: httpx.Client, batch: list[dict[str, str]]) -> bool:
        for attempt in range(self.retries + 1):
            try:
                r = client.post(f"{self.base}/api/v1/events", json=batch)
                if r.status_code < 300:
                    body = r.json()
                    self.stored += int(body.get("inserted", 0))
                    self.duplicates += int(body.get("duplicates", 0))
                    return True
                reason = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            if len(self.errors) < 20:
                self.errors.append(reason)
            if attempt < self.retries:
                self.retried += 1
            self.halt.wait(min(2.0, 0.1 * 2**attempt))
        return False

    def rate(self, since: float, until: float) -> float:
        """Events accepted per second between two monotonic instants."""
        inside = [(t, s) for t, s in self._marks if since <= t <= until]
        if len(inside) < 2:
            return 0.0
        (t0, s0), (t1, s1) = inside[0], inside[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def batches_between(self, since: float, until: float) -> int:
        """Batches accepted between two monotonic instants."""
        return sum(1 for t, _ in self._marks if since <= t <= until)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)
