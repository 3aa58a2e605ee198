"""Feeding a simulation into the database as its clock passes, in small batches through the
one committer of every source (`ingest.sources.commit`): what a real source does."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import tomli_w
from pydantic import ValidationError

from app.clock import Clock
from ingest.contract import describe, event_adapter
from ingest.sim.center import Center, config, local, schedule
from ingest.sim.engine import Simulation
from ingest.sources.base import Item, Rejected
from ingest.sources.commit import Committer, Summary

SOURCE = "simulator"  # the health row's name; the events keep their own `source`

log = logging.getLogger(__name__)


def items(events: Iterable[dict[str, Any]]) -> Iterable[Item]:
    """The simulator's events as contract models (a bad one would be a reject, by index)."""
    for i, e in enumerate(events):
        try:
            yield event_adapter.validate_python(e)
        except ValidationError as exc:
            yield Rejected(f"event {i + 1} ({e.get('id')})", describe(exc))


def store(
    conn: psycopg.Connection[Any], events: list[dict[str, Any]], batch: int = 5000
) -> Summary:
    return Committer(conn, SOURCE, batch=batch).run(items(events))


def feed(
    connect: Callable[[], psycopg.Connection[Any]],
    sim: Simulation,
    clock: Clock,
    *,
    stop: threading.Event,
    interval_s: float = 0.25,
) -> None:
    """Until `stop`: every `interval_s`, store what happened up to the clock's now."""
    with connect() as conn:
        while not stop.is_set():
            events = sim.advance(sim.sim_time(clock.now()))
            if events:
                result = store(conn, events)
                if result.rejected:
                    log.error("simulator events rejected: %s", result.rejects[:3])
            stop.wait(interval_s)


def start_thread(
    connect: Callable[[], psycopg.Connection[Any]], sim: Simulation, clock: Clock
) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=feed,
        args=(connect, sim, clock),
        kwargs={"stop": stop},
        name="simulator",
        daemon=True,
    )
    thread.start()
    return thread, stop


# The demo's day: 07:00 for 11.5 hours, and a morning in which the 09:00 peak meets the first
# breaks and queues slip out of their service level (billing and sales from 08:56, support and
# chat critical by 09:15), then recover by 09:55; the alert rules below fire on it
# (tests/alerts/test_demo.py holds the demo to that). `callboard demo --seed N` runs another.
DEMO_SEED = 17
DEMO_HOURS = 11.5

# The demo's second floor reads Chinese: its wallboard speaks zh-CN whatever the browser's
# language (`/wall/shanghai`; `/wall` follows the browser).
DEMO_WALLBOARDS: dict[str, dict[str, Any]] = {
    "shanghai": {"title": "上海 · 客服中心", "lang": "zh-CN"},
}


# The floor's names for its queues and teams on the screens of each language (`names`).
DEMO_NAMES: dict[str, dict[str, str]] = {
    "billing": {"zh-CN": "账务", "zh-TW": "帳務", "ru": "Счета"},
    "chat": {"zh-CN": "在线客服", "zh-TW": "線上客服", "ru": "Чат"},
    "sales": {"zh-CN": "销售", "zh-TW": "銷售", "ru": "Продажи"},
    "support": {"zh-CN": "技术支持", "zh-TW": "技術支援", "ru": "Поддержка"},
    "east": {"zh-CN": "东组", "zh-TW": "東組", "ru": "Восток"},
    "north": {"zh-CN": "北组", "zh-TW": "北組", "ru": "Север"},
    "south": {"zh-CN": "南组", "zh-TW": "南組", "ru": "Юг"},
}


def write_config(center: Center, day: date, path: Path) -> dict[str, Any]:
    """The center as callboard.toml, with the day's schedules (for adherence), its alert
    rules, its wallboards and the names its queues and teams have in each language."""
    body = config(center)
    for section in ("queues", "teams"):
        for key, own in body.get(section, {}).items():
            if key in DEMO_NAMES:
                own["names"] = DEMO_NAMES[key]
    body["schedules"] = schedule(center, day)
    body["alerts"] = demo_alerts(center)  # docs/ALERTS.md
    body["wallboards"] = DEMO_WALLBOARDS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(body).encode())
    return body


def day_start(center: Center, day: date, hour: float = 7.0) -> datetime:
    return local(day, hour, center.timezone)


def jsonl(events: Iterable[dict[str, Any]]) -> Iterable[bytes]:
    import orjson

    for e in events:
        yield orjson.dumps(e) + b"\n"


def demo_alerts(center: Center) -> list[dict[str, Any]]:
    """The demo's alert rules: each queue's service level slipping over half an hour (the
    09:00 peak), a backlog per queue in steps, and the agents' own reminders."""
    rules: list[dict[str, Any]] = []
    for q in center.queues:
        rules.append(
            {
                "name": f"{q.name} service level",
                "scope": f"queue:{q.name}",
                "metric": "service_level",
                "window": "30m",
                "below": q.target,
                "for_s": 300,  # five minutes: half-hour service levels on a small floor are noisy
                "severity": "warning",
                "escalate": {"critical": round(max(0.0, q.target - 0.15), 2)},
                "min_interval_s": 600,
            }
        )
        rules.append(
            {
                "name": f"{q.name} backlog",
                "scope": f"queue:{q.name}",
                "metric": "waiting_now",
                "above": 5,
                "step": 5,
                "severity": "warning",
                "escalate": {"critical": 15},
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
    rules.append(
        {
            "name": "break ending",
            "scope": "center",
            "each_agent": True,
            "metric": "break_ends_in_s",
            "below": 120,
            "severity": "info",
        }
    )
    return rules
