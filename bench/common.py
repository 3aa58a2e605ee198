"""What the server benches share: a free port, the file limit, a real `callboard serve` on a
database, and a load generator that survives a slow response and says how much it sent."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


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
    """A steady background of `call.queued` events over `queues` queues, posted every 100 ms:
    what is due by then, so a slow response makes the next batch larger, not the rate lower.
    A failed response is retried (at most `retries` times per batch, the same ids: ingest is
    idempotent), never the end of the load; `sent`, `failed` and `rate()` say what it
    achieved, so a bench can check it did the work it claims."""

    def __init__(
        self,
        base: str,
        token: str,
        rate: float,
        *,
        queues: int = 10,
        retries: int = 5,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(daemon=True, name="load")
        self.base, self.token, self.target_rate = base, token, rate
        self.per_batch = max(1, int(rate / 10))
        self.queues, self.retries, self.timeout = queues, retries, timeout
        self.halt = threading.Event()
        self.sent = 0  # events accepted (stored or duplicates of a retried batch)
        self.failed = 0  # batches given up after their retries
        self.errors: list[str] = []
        self._marks: list[tuple[float, int]] = []

    def run(self) -> None:
        n = 0
        start = time.monotonic()
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
                            "id": f"bg{n + i}",
                            "ts": now,
                            "type": "call.queued",
                            "call_id": f"bgc{n + i}",
                            "queue": f"bg{(n + i) % self.queues}",
                        }
                        for i in range(due)
                    ]
                    n += len(batch)
                    if self._post(c, batch):
                        self.sent += len(batch)
                    else:
                        self.failed += 1
                    self._marks.append((time.monotonic(), self.sent))
                self.halt.wait(max(0.0, 0.1 - (time.monotonic() - t0)))

    def _post(self, client: httpx.Client, batch: list[dict[str, str]]) -> bool:
        for attempt in range(self.retries + 1):
            try:
                r = client.post(f"{self.base}/api/v1/events", json=batch)
                if r.status_code < 300:
                    return True
                reason = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            if len(self.errors) < 20:
                self.errors.append(reason)
            self.halt.wait(min(2.0, 0.1 * 2**attempt))
        return False

    def rate(self, since: float, until: float) -> float:
        """Events accepted per second between two monotonic instants."""
        inside = [(t, s) for t, s in self._marks if since <= t <= until]
        if len(inside) < 2:
            return 0.0
        (t0, s0), (t1, s1) = inside[0], inside[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)
