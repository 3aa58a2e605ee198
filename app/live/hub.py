"""The live hub of one API process.

It LISTENs for the ingest's batch notifications, recomputes the subscribed topics at most once
per tick (sooner than `max_age_s` only when something changed; at least every `max_age_s`,
because rolling windows slide with time), and wakes the subscribers whose topics changed. Each
subscriber keeps only what it last sent per topic: a slow client gets the newest state as a
patch against what it has, never a backlog. No state is shared between processes: every worker
runs its own hub, fed by the same NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from app.clock import Clock
from app.config import CallboardConfig
from app.live.topics import diff, levels_for, payloads
from app.metrics.service import compute_many
from app.scorecard.service import center_balances, scored
from ingest.writer import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


@dataclass
class Topic:
    seq: int
    data: dict[str, Any]


PENDING = Topic(-1, {})


@dataclass(eq=False)
class Subscriber:
    topics: frozenset[str]
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    since: float = field(default_factory=time.monotonic)
    sent: dict[str, Topic] = field(default_factory=dict)
    heartbeat: bool = True  # the first frame is a heartbeat: the clock, for the screens

    def frames(self, hub: Hub) -> list[dict[str, Any]]:
        """Frames for whatever changed since this subscriber's last send (latest state only)."""
        now = hub.clock.now().isoformat()
        out: list[dict[str, Any]] = []
        if self.heartbeat:
            self.heartbeat = False
            out.append({"topic": "_heartbeat", "seq": 0, "ts": now, "data": hub.clock_info()})
        for name in sorted(self.topics):
            current = hub.topics.get(name)
            last = self.sent.get(name)
            if current is None or (last is not None and last.seq == current.seq):
                continue
            if last is PENDING and not hub.fresh_since(self):
                continue
            if last is None or last is PENDING:
                out.append(
                    {
                        "topic": name,
                        "seq": current.seq,
                        "ts": now,
                        "kind": "snapshot",
                        "data": current.data,
                    }
                )
            else:
                out.append(
                    {
                        "topic": name,
                        "seq": current.seq,
                        "ts": now,
                        "kind": "patch",
                        "data": diff(last.data, current.data),
                    }
                )
            self.sent[name] = current
        return out


class Hub:
    def __init__(
        self,
        *,
        engine: Engine,
        listen_url: str,
        clock: Clock,
        config: Callable[[], tuple[CallboardConfig, int | None]],
        tick_s: float = 1.0,
        max_age_s: float = 5.0,
        heartbeat_s: float = 5.0,
        window: str = "today",
    ) -> None:
        self.engine, self.listen_url, self.clock, self.config = engine, listen_url, clock, config
        self.tick_s, self.max_age_s, self.heartbeat_s, self.window = (
            tick_s,
            max_age_s,
            heartbeat_s,
            window,
        )
        self.topics: dict[str, Topic] = {}
        self.subscribers: set[Subscriber] = set()
        self.changed = asyncio.Event()
        self.computed_at = 0.0
        self.computed_started = 0.0
        self.ticks = 0
        self._tasks: list[asyncio.Task[None]] = []

    def clock_info(self) -> dict[str, Any]:
        return {
            "now": self.clock.now().isoformat(),
            "timezone": self.config()[0].defaults.timezone,
            "speed": self.clock.speed if self.clock.simulated else 1.0,
            "worker": os.getpid(),
        }

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="hub-listen"),
            asyncio.create_task(self._tick(), name="hub-tick"),
            asyncio.create_task(self._heartbeats(), name="hub-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for sub in list(self.subscribers):
            sub.wake.set()

    # --- subscribers ----------------------------------------------------------------------

    def subscribe(self, topics: frozenset[str]) -> Subscriber:
        """A new subscriber gets the cached state at once only when it is current; otherwise
        the next tick computes it (a reconnecting screen must not see the past first)."""
        sub = Subscriber(topics)
        self.subscribers.add(sub)
        fresh = time.monotonic() - self.computed_at < self.max_age_s
        if not (topics <= self.topics.keys() and fresh and not self.changed.is_set()):
            self.changed.set()
            for topic in topics:
                sub.sent[topic] = PENDING  # hold the cached (old) state back: wait for the tick
        sub.wake.set()  # the heartbeat (the clock) goes out at once
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    # --- the loops ------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.listen_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.changed.set()  # anything may have happened while not listening
                    async for _ in conn.notifies():
                        self.changed.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live hub: LISTEN connection lost; reconnecting")
                await asyncio.sleep(1.0)

    async def _tick(self) -> None:
        """Compute when something changed (or the snapshot is `max_age_s` old), at most once
        per `tick_s`: an event is pushed at once, and under load the work stays one
        computation per tick."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=self.max_age_s)
            if not self.subscribers:
                await asyncio.sleep(self.tick_s)  # nobody to tell; a newcomer sets `changed`
                continue
            rest = self.tick_s - (time.monotonic() - self.computed_started)
            if rest > 0:
                await asyncio.sleep(rest)
            wanted: set[str] = set().union(*(s.topics for s in self.subscribers))
            self.changed.clear()
            started = time.monotonic()
            try:
                fresh = await asyncio.to_thread(self.compute, wanted)
            except Exception:
                log.exception("live hub: computing the snapshot failed")
                self.computed_started = started
                continue
            self.computed_at = time.monotonic()
            self.computed_started = started
            self.ticks += 1
            self.publish(fresh)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for sub in self.subscribers:
                sub.heartbeat = True
                sub.wake.set()

    # --- work -----------------------------------------------------------------------------

    def compute(self, wanted: set[str]) -> dict[str, dict[str, Any]]:
        config, version = self.config()
        levels = levels_for(wanted)
        now = self.clock.now()
        kinds = {t.partition(":")[0] for t in wanted}
        center_balance = None
        with self.engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            result = compute_many(
                pg, config, levels=levels, now=now, window=self.window, config_version=version
            )
            center_row = next(iter(result["center"]["rows"]), None) if "center" in result else None
            if "center" in kinds and center_row is not None:
                center_balance = center_balances(pg, config, center_row, now=now)
        rows = {level: {r["key"]: r for r in result[level]["rows"]} for level in levels}
        cards: dict[str, dict[str, Any]] = {}
        if kinds & {"agent", "team"} and "agent" in rows:
            cards = {c["key"]: c for c in scored(config, "agent", list(rows["agent"].values()))}
        some = next(iter(result.values()), None)
        meta = {
            "window": self.window,
            "from": some["from"] if some else None,
            "config_version": version,
            "timezone": config.defaults.timezone,
            "computed_at": now.isoformat(),
        }
        return payloads(
            wanted, rows, meta, scorecards=cards, balances=center_balance, config=config
        )

    def fresh_since(self, sub: Subscriber) -> bool:
        """Was the cache computed after this subscriber arrived?"""
        return self.computed_started >= sub.since

    def publish(self, fresh: dict[str, dict[str, Any]]) -> None:
        changed = set()
        for name, data in fresh.items():
            current = self.topics.get(name)
            if current is None or current.data != data:
                self.topics[name] = Topic((current.seq if current else 0) + 1, data)
                changed.add(name)
        for sub in self.subscribers:
            if sub.topics & changed or PENDING in sub.sent.values():
                sub.wake.set()
