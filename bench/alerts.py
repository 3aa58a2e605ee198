"""The cost of evaluating the alerts on one live tick, on rows the hub already computed:
200 queues with a backlog rule and a service-level rule, 5,000 agents under a per-agent
wrap-up rule, with 10 % of the queues and agents breaching.

    .venv/bin/python bench/alerts.py [--quick] [--ticks 20] [--receiver-refuses]

Measures (median over the ticks): a quiet tick (nothing breaches), the tick that raises
every breach (inserts, outbox rows), and a steady tick where every open alert's value moves
(one UPDATE per alert). The evaluation runs in the hub's tick thread, so it adds to the tick.

After the ticks (outside the timing) the outbox is drained by the product's delivery
(app/alerts/delivery.py) to a webhook receiver the bench runs on 127.0.0.1: the notifications
the ticks queued must all arrive there, or the alerts the ticks stored were not the ones a
server would send. `--receiver-refuses` makes that receiver answer 503 (the broken setup of
tests/bench): the bench then says it could not measure."""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.alerts.delivery import drain_once
from app.alerts.service import evaluate_tick
from app.config import CallboardConfig
from bench.common import migrated_database
from bench.harness import Run

QUEUES, AGENTS, TEAM_SIZE = 200, 5000, 25
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def config(hook: str) -> CallboardConfig:
    rules: list[dict[str, Any]] = []
    for q in range(QUEUES):
        rules.append(
            {
                "name": f"q{q} backlog",
                "scope": f"queue:q{q}",
                "metric": "waiting_now",
                "above": 5,
                "step": 5,
                "notify": ["webhook:ops"],
            }
        )
        rules.append(
            {
                "name": f"q{q} sl",
                "scope": f"queue:q{q}",
                "metric": "service_level",
                "below": 0.8,
                "notify": ["webhook:ops"],
            }
        )
    rules.append(
        {
            "name": "long wrap-up",
            "scope": "center",
            "each_agent": True,
            "metric": "wrap_up_s",
            "above": 180,
            "severity": "info",
        }
    )
    return CallboardConfig.model_validate(
        {
            "queues": {f"q{q}": {} for q in range(QUEUES)},
            "teams": {
                f"t{t}": {"agents": [f"a{a}" for a in range(t * TEAM_SIZE, (t + 1) * TEAM_SIZE)]}
                for t in range(AGENTS // TEAM_SIZE)
            },
            "webhooks": {"ops": {"url": hook}},
            "alerts": rules,
        }
    )


class Receiver:
    """A webhook receiver on 127.0.0.1 that counts the notifications it accepted (answered
    200), or refuses every one (503)."""

    def __init__(self, *, refuses: bool) -> None:
        self.accepted = self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(503 if refuses else 200)
                self.end_headers()
                if refuses:
                    receiver.refused += 1
                else:
                    receiver.accepted += 1

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def drain(conn: psycopg.Connection[Any], cfg: CallboardConfig, at: datetime) -> None:
    """Deliver what is due at `at` until nothing is (a failed delivery is due again only after
    its backoff, later than `at`)."""

    @contextmanager
    def connect() -> Iterator[psycopg.Connection[Any]]:
        with conn.transaction():
            yield conn

    while drain_once(connect, cfg, lambda: at, limit=100):
        pass


def rows(breach: bool, wiggle: int) -> dict[str, Any]:
    def bad(i: int) -> bool:
        return breach and i % 10 == 0

    return {
        "queue": {
            f"q{q}": {
                "key": f"q{q}",
                "waiting_now": 7 + wiggle % 3 if bad(q) else 1,
                "service_level": 0.6 - wiggle * 0.001 if bad(q) else 0.9,
            }
            for q in range(QUEUES)
        },
        "agent": {
            f"a{a}": {
                "key": f"a{a}",
                "team": f"t{a // TEAM_SIZE}",
                "state": "wrap_up" if bad(a) else "available",
                "time_in_state_s": 200.0 + wiggle if bad(a) else 30.0,
            }
            for a in range(AGENTS)
        },
    }


def timed(
    conn: psycopg.Connection[Any], cfg: CallboardConfig, r: dict[str, Any], at: datetime
) -> float:
    t0 = time.perf_counter()
    with conn.transaction():
        evaluate_tick(conn, cfg, r, at)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 ticks")
    parser.add_argument("--ticks", type=int, default=None, help="default 20")
    parser.add_argument(
        "--receiver-refuses", action="store_true", help="the webhook receiver answers 503"
    )
    args = parser.parse_args()
    args.ticks = args.ticks or (5 if args.quick else 20)
    run = Run("alerts", quick=args.quick)
    receiver = Receiver(refuses=args.receiver_refuses)
    cfg = config(receiver.url)
    print(f"{len(cfg.alerts)} rules, {QUEUES} queues, {AGENTS:,} agents; median of {args.ticks}")
    with (
        migrated_database() as database,
        psycopg.connect(database.libpq, autocommit=True) as conn,
    ):
        at = NOW
        quiet = []
        for _ in range(args.ticks):
            at += timedelta(seconds=1)
            quiet.append(timed(conn, cfg, rows(False, 0), at))
        at += timedelta(seconds=1)
        raise_ms = timed(conn, cfg, rows(True, 0), at)
        opened = conn.execute("SELECT count(*) FROM alerts").fetchone()
        steady = []
        for i in range(1, args.ticks + 1):
            at += timedelta(seconds=1)
            steady.append(timed(conn, cfg, rows(True, i), at))
        told = conn.execute("SELECT count(*) FROM alert_notifications").fetchone()
        at += timedelta(seconds=1)
        clear_ms = timed(conn, cfg, rows(False, 0), at)
        queued = conn.execute("SELECT count(*) FROM alert_notifications").fetchone()
        try:
            drain(conn, cfg, at)
        finally:
            receiver.close()
        sent = conn.execute(
            "SELECT count(*) FROM alert_notifications WHERE status = 'sent'"
        ).fetchone()
    breaching = QUEUES // 10 * 2 + AGENTS // 10  # a backlog and an SL rule per queue, agents
    run.require(
        "every breach raised an alert",
        bool(opened) and opened[0] == breaching,
        f"{opened[0] if opened else 0:,} alerts of {breaching:,} breaches",
    )
    run.require(
        "notifications queued for the webhook rules",
        bool(told) and told[0] > 0,
        f"{told[0] if told else 0:,} notifications",
    )
    total = queued[0] if queued else 0
    run.require(
        "the webhook receiver got every notification",
        receiver.accepted == total and bool(sent) and sent[0] == total,
        f"{receiver.accepted:,} of {total:,} accepted, {receiver.refused:,} refused,"
        f" {sent[0] if sent else 0:,} marked sent",
    )
    run.figure("alerts: quiet tick (nothing breaches)", statistics.median(quiet), "ms")
    run.figure(f"alerts: tick raising {breaching:,} alerts", raise_ms, "ms")
    steady_ms = statistics.median(steady)
    run.figure("alerts: steady tick, every open alert's value moves", steady_ms, "ms")
    run.figure("alerts: tick clearing them all", clear_ms, "ms")
    run.finish()


if __name__ == "__main__":
    main()
