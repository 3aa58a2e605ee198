"""The live hub of one API process, and the one computation of the cluster.

Every API worker (of every host) runs a hub. One of them is the **leader**: it holds a
PostgreSQL advisory lock on a connection of its own, computes the topics that any worker's
clients want (their union is in `live_interest`), and publishes each changed topic as a new
`seq` of a new snapshot `version` (table `live_topics`, then one NOTIFY on `callboard_live`
carrying the version). Every hub, the leader included, fans the published payloads out to its
own sockets; followers read only the topics they want and that changed since the version they
have. When the leader dies its session ends, PostgreSQL releases the lock, and another hub,
trying every tick, takes over within two ticks (continuing versions and sequence numbers from
the table), so adding workers or hosts does not multiply the database work.

The leader computes as soon as the ingest NOTIFYs a batch (or a worker asks for a new topic)
and every `tick_s`: an event tick recomputes only the groups what arrived touched (nothing when
nothing did) and rebuilds the topics that show them; every `clock_s` the clock's computation
brings every row to now (agent time, adherence, rolling windows move with the clock). Each
subscriber keeps only what it last sent per topic: a slow client gets the newest state as a
patch against what it has, never a backlog."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import psycopg
from prometheus_client import CollectorRegistry, Histogram
from sqlalchemy.engine import Engine

from app.clock import Clock
from app.config import CallboardConfig
from app.live.engine import Engine as LiveEngine
from app.live.engine import Update
from app.live.fanout import PENDING, Publication, Subscriber, Topic, View
from app.live.topics import BUILT_IN, KINDS, Rows, affected, levels_for, payloads
from app.metrics.registry import Level
from app.metrics.service import _iso as _iso_rows
from app.metrics.service import compute_windows
from app.metrics.windows import resolve
from app.ops.telemetry import live_tick_histogram
from app.scorecard.service import center_balances, scored
from ingest.changelog import LEADER_LOCK_KEY
from ingest.writer import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

T = TypeVar("T")

LIVE_CHANNEL = "callboard_live"  # NOTIFY payload: the published snapshot version
INTEREST_TTL_S = 30.0  # a worker that has not refreshed its interest for this long is gone
INTEREST_REFRESH_S = 10.0
PRUNE_EVERY = 20  # ticks between two prunings of the change log
# a revoked token's, an ended session's or an unpaired TV's sockets close within this
REVOCATION_CHECK_S = 0.5


class Hub:
    def __init__(
        self,
        *,
        engine: Engine,
        listen_url: str,
        clock: Clock,
        config: Callable[[], tuple[CallboardConfig, int | None]],
        tick_s: float = 0.25,
        max_age_s: float = 5.0,
        clock_s: float = 5.0,
        heartbeat_s: float = 5.0,
        tick_seconds: Histogram | None = None,
    ) -> None:
        self.engine, self.listen_url, self.clock, self.config = engine, listen_url, clock, config
        self.tick_s, self.max_age_s, self.heartbeat_s = tick_s, max_age_s, heartbeat_s
        self.clock_s = clock_s  # how often every row is computed at now (what moves with time)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.topics: dict[str, Topic] = {}
        self.subscribers: set[Subscriber] = set()
        self.changed = asyncio.Event()  # leader: something to compute
        self.published = asyncio.Event()  # follower: a version to read
        self.interest_changed = asyncio.Event()
        self.leader = False
        self.version = 0  # the newest version this hub has applied
        self.newest_wall = 0.0  # when the newest applied snapshot was computed (time.time())
        self.computed_started = 0.0  # leader: monotonic start of the last computation
        self.ticks = 0
        self.announced = (0, 0.0)  # follower: the newest version NOTIFYed, and its wall
        # leader: topic -> (seq, wall, payload minus its timing) of what it published
        self._pub: dict[str, tuple[int, float, bytes]] = {}
        self._lock_conn: psycopg.Connection[Any] | None = None
        # leader: the incremental live engine (what changed since the last computation)
        self._live: LiveEngine | None = None
        # leader: the rows of the last computation (window -> level -> key -> row), kept up to
        # date by event ticks, their levels, the agents' scorecards, when the clock last ran
        self._rows: Rows | None = None
        self._levels: set[str] = set()
        self._cards: dict[str, dict[str, Any]] = {}
        self._clocked = 0.0
        self.notified = True  # the leader was woken (a NOTIFY, a new topic), not by its tick
        self._alerts_due = False  # an evaluation of the alert rules was put off (_alerts)
        self._waiting: set[str] = set()
        self._building: concurrent.futures.Future[None] | None = None
        self._building_conn: psycopg.Connection[Any] | None = None
        self._lock_mutex = threading.Lock()  # the lock connection is used by one thread at once
        self._closed = False
        self._tasks: list[asyncio.Task[None]] = []
        # database work runs in these threads; stop() waits for what is still running, since a
        # cancelled task does not stop its thread (which would otherwise outlive the engine)
        self._pool = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="hub")
        self._inflight: set[concurrent.futures.Future[Any]] = set()
        # the app's (Telemetry.live_tick): one per app, however often its lifespan runs
        self.tick_seconds = tick_seconds or live_tick_histogram(CollectorRegistry())

    def clock_info(self) -> dict[str, Any]:
        return {
            "now": self.clock.now().isoformat(),
            "timezone": self.config()[0].defaults.timezone,
            "speed": self.clock.speed if self.clock.simulated else 1.0,
            "worker": os.getpid(),
        }

    def health(self) -> dict[str, Any]:
        """For /healthz: the age of the newest snapshot this worker has (seconds, or None)."""
        age = time.time() - self.newest_wall if self.newest_wall else None
        return {
            "leader": self.leader,
            "version": self.version,
            "snapshot_age_s": None if age is None else round(age, 3),
            "subscribers": len(self.subscribers),
            "topics": len(self.topics),
        }

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="hub-listen"),
            asyncio.create_task(self._lead(), name="hub-lead"),
            asyncio.create_task(self._follow(), name="hub-follow"),
            asyncio.create_task(self._interest(), name="hub-interest"),
            asyncio.create_task(self._heartbeats(), name="hub-heartbeat"),
            asyncio.create_task(self._revocations(), name="hub-revocations"),
        ]

    def _run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]:
        """`fn` in the hub's threads, tracked until it ends (see `stop`)."""
        future = self._pool.submit(fn, *args, **kwargs)
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)
        return asyncio.wrap_future(future)

    async def stop(self) -> None:
        self._closed = True  # a thread still running closes the lock connection itself
        building = self._building_conn
        if building is not None:  # the engine being built: its statement ends now
            with contextlib.suppress(Exception):
                building.cancel()
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # bounded: a stop never hangs on a task (serve's SIGTERM, tests)
            done, stuck = await asyncio.wait(self._tasks, timeout=5)
            for task in done:  # retrieved: an error was logged where it happened
                if not task.cancelled():
                    task.exception()
            for task in stuck:
                log.error("live hub: a task did not stop: %r", task)
        if self._inflight:  # bounded: a statement stuck longer is the pool's timeout's to end
            await asyncio.to_thread(concurrent.futures.wait, list(self._inflight), 15)
        await asyncio.to_thread(self._step_down, closing=True)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(
                self._sql, "DELETE FROM live_interest WHERE worker = %s", (self.worker,)
            )
        for sub in list(self.subscribers):
            sub.wake.set()
        self._pool.shutdown(wait=False)

    # --- subscribers ----------------------------------------------------------------------

    def subscribe(
        self,
        topics: frozenset[str],
        *,
        view: View | None = None,
        token_sha256: str | None = None,
    ) -> Subscriber:
        """A new subscriber gets the cached state at once only when it is current; otherwise
        the next computation brings it (a reconnecting screen must not see the past first)."""
        sub = Subscriber(topics, view=view, token_sha256=token_sha256)
        known = topics <= self.topics.keys()
        self.subscribers.add(sub)
        # current: recent, and nothing changed since (an ingest batch, a newer version)
        fresh = (
            time.time() - self.newest_wall < self.max_age_s
            and not (self.leader and self.changed.is_set())
            and self.announced[0] <= self.version
        )
        if not (known and fresh):
            for topic in topics:
                sub.sent[topic] = PENDING  # hold the cached (old) state back: wait for the tick
            self.interest_changed.set()
            self.changed.set()
        sub.wake.set()  # the heartbeat (the clock) goes out at once
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Topics nobody here subscribes to any more are dropped at once (memory stays
        bounded by what is watched; the leader stops computing them at its next tick)."""
        self.subscribers.discard(sub)
        wanted = self.wanted()
        for name in sub.topics - wanted:
            self.topics.pop(name, None)
        if sub.topics - wanted:
            self.interest_changed.set()

    def wanted(self) -> set[str]:
        return set().union(*(s.topics for s in self.subscribers))

    # --- the loops ------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.listen_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    await conn.execute(f"LISTEN {LIVE_CHANNEL}")
                    self.changed.set()  # anything may have happened while not listening
                    self.published.set()
                    async for note in conn.notifies():
                        if note.channel == LIVE_CHANNEL:
                            version, _, wall = note.payload.partition(" ")
                            if int(version) > self.announced[0]:
                                self.announced = (int(version), float(wall))
                                if not self.leader:
                                    self.published.set()
                        else:
                            self.changed.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live hub: LISTEN connection lost; reconnecting")
                await asyncio.sleep(1.0)

    async def _lead(self) -> None:
        """Try to become the leader every tick; as the leader, compute as soon as something
        changed, and every `tick_s` (an event tick with nothing new costs a few ms)."""
        while True:
            if not self.leader:
                taken: Publication | None = None
                try:
                    taken = await self._run(self._try_lead)
                except Exception:
                    log.exception("live hub: trying the leader lock failed")
                if taken is None:
                    await asyncio.sleep(self.tick_s)
                    continue
                self._apply(taken)
                self.leader = True
                self.changed.set()
                log.info("live hub %s: leading from version %d", self.worker, self.version)
            # push on commit: a batch NOTIFYed is computed at once (what arrives during a
            # computation is coalesced into the next one); the tick is for the clock
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=self.tick_s)
            self.notified = self.changed.is_set()
            self.changed.clear()
            started = time.monotonic()
            self.computed_started = started
            try:
                # topics a subscriber here waits for (it came after their last publication)
                self._waiting = {
                    t for sub in self.subscribers for t, v in sub.sent.items() if v is PENDING
                }
                step = await self._run(self._tick_once, self.wanted(), dict(self.topics))
            except Exception:
                log.exception("live hub: the live computation failed")
                await self._run(self._check_leadership)
                continue
            self.tick_seconds.observe(time.monotonic() - started)
            self.ticks += 1
            self._apply(step)

    async def _follow(self) -> None:
        """Read what the leader published (only this worker's topics, only what changed)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.published.wait(), timeout=self.max_age_s)
            self.published.clear()
            if self.leader:
                continue
            wanted = self.wanted()
            announced = self.announced
            if not wanted:
                continue
            try:
                fresh = await self._run(
                    self._read_published, wanted, self.version, set(self.topics)
                )
            except Exception:
                log.exception("live hub: reading the published snapshot failed")
                await asyncio.sleep(self.tick_s)
                self.published.set()
                continue
            if not self.leader:
                self._apply(Publication(announced[0], announced[1], fresh))

    async def _interest(self) -> None:
        """Keep this worker's wanted topics in `live_interest`; tell the leader of new ones."""
        last: set[str] | None = None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.interest_changed.wait(), timeout=INTEREST_REFRESH_S)
            self.interest_changed.clear()
            wanted = self.wanted()
            try:
                await self._run(self._write_interest, wanted, wanted - (last or set()))
                last = wanted
            except Exception:
                log.exception("live hub: writing interest failed")
                await asyncio.sleep(1.0)
                self.interest_changed.set()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for sub in self.subscribers:
                sub.heartbeat = True
                sub.wake.set()

    async def _revocations(self) -> None:
        """Close the sockets of tokens revoked (or deleted) since they connected: 4401."""
        while True:
            await asyncio.sleep(REVOCATION_CHECK_S)
            held = {s.token_sha256 for s in self.subscribers if s.token_sha256}
            if not held:
                continue
            try:
                valid = await self._run(self._valid_tokens, sorted(held))
            except Exception:
                log.exception("live hub: checking tokens failed")
                continue
            for sub in list(self.subscribers):
                if sub.token_sha256 and sub.token_sha256 not in valid:
                    sub.close = (4401, "token revoked, session ended or TV unpaired")
                    self.subscribers.discard(sub)
                    sub.wake.set()

    # --- database work (in threads) -------------------------------------------------------

    def _sql(self, query: str, params: Any = None) -> list[Any]:
        with self.engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            cur = pg.execute(query, params)
            rows = cur.fetchall() if cur.description else []
            pg.commit()
            return list(rows)

    def _valid_tokens(self, digests: list[str]) -> set[str]:
        from app.auth.service import in_force  # the one rule of a token in force (app/auth)

        with self.engine.connect() as conn:
            return in_force(conn.connection.driver_connection, digests)  # type: ignore[arg-type]

    def _write_interest(self, wanted: set[str], new: set[str]) -> None:
        with self.engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            if wanted:
                pg.execute(
                    "INSERT INTO live_interest (worker, topics, seen_at) VALUES (%s, %s, now())"
                    " ON CONFLICT (worker) DO UPDATE SET topics = excluded.topics,"
                    " seen_at = excluded.seen_at",
                    (self.worker, sorted(wanted)),
                )
            else:
                pg.execute("DELETE FROM live_interest WHERE worker = %s", (self.worker,))
            # workers that died without saying so (a killed process) are forgotten
            pg.execute("DELETE FROM live_interest WHERE seen_at < now() - interval '10 min'")
            if new and not self.leader:
                pg.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, '{"interest": true}'))
            pg.commit()

    def _try_lead(self) -> Publication | None:
        """The leader lock, and what the previous leader published (versions and sequence
        numbers continue from there)."""
        with self._lock_mutex:
            try:
                return None if self._closed else self._try_lead_locked()
            finally:
                if self._closed:
                    self._close_lock()

    def _try_lead_locked(self) -> Publication | None:
        if self._lock_conn is None or self._lock_conn.closed:
            self._lock_conn = psycopg.connect(self.listen_url, autocommit=True, connect_timeout=5)
        conn = self._lock_conn
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)).fetchone()
        if not (row and row[0]):
            return None
        if self._live is not None:
            self._live.reset()  # others led meanwhile: start from a full computation
        rows = conn.execute(
            "SELECT topic, seq, version, computed_at, data FROM live_topics"
        ).fetchall()
        topics = {name: _topic(seq, v, at, data) for name, seq, v, at, data in rows}
        self._pub = {n: (t.seq, t.computed_wall, _core(t.data)) for n, t in topics.items()}
        version = max([self.version, *(t.version for t in topics.values())])
        wall = max([self.newest_wall, *(t.computed_wall for t in topics.values())])
        return Publication(version, wall, topics)

    def _check_leadership(self) -> None:
        """After a failure: keep leading only while the lock's session is alive."""
        try:
            with self._lock_mutex:
                assert self._lock_conn is not None
                self._lock_conn.execute("SELECT 1")
        except Exception:
            self._step_down()

    def _step_down(self, *, closing: bool = False) -> None:
        with self._lock_mutex:
            self._closed = self._closed or closing
            self._close_lock()

    def _close_lock(self) -> None:
        self.leader = False
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                self._lock_conn.close()  # ends the session: the lock is released
            self._lock_conn = None

    def _tick_once(self, local: set[str], cache: dict[str, Topic]) -> Publication:
        """Compute the wanted topics of every worker and publish the changed ones (and those
        unchanged for `max_age_s / 2`, so that their age says the leader is alive)."""
        with self._lock_mutex:
            try:
                if self._lock_conn is None:
                    raise RuntimeError("no longer the leader")
                return self._tick_locked(self._lock_conn, local, cache)
            finally:
                if self._closed:
                    self._close_lock()

    def _tick_locked(
        self, lock: psycopg.Connection[Any], local: set[str], cache: dict[str, Topic]
    ) -> Publication:
        others = lock.execute(
            "SELECT topics FROM live_interest WHERE worker <> %s"
            " AND seen_at > now() - make_interval(secs => %s)",
            (self.worker, INTEREST_TTL_S),
        ).fetchall()
        wanted = local.union(*(set(r[0]) for r in others))
        wall = time.time()
        computed_at = _iso(datetime.fromtimestamp(wall, UTC))
        version = self.version + 1
        data = self.compute(wanted, version=version, computed_at=computed_at) if wanted else {}
        changed: dict[str, Topic] = {}
        bodies: list[tuple[str, int, int, str, bytes]] = []
        for name, payload in data.items():
            # what every worker gets is the JSON: publish exactly that (identical frames)
            core = _core(payload)
            seq, last_wall, last_core = self._pub.get(name, (0, 0.0, b""))
            # republished: one state for all
            new_here = (name in local and name not in cache) or name in self._waiting
            if last_core == core and wall - last_wall < self.max_age_s / 2 and not new_here:
                continue
            body = orjson.dumps(payload)
            self._pub[name] = (seq + 1, wall, core)
            changed[name] = Topic(seq + 1, orjson.loads(body), version, computed_at, wall)
            bodies.append((name, seq + 1, version, computed_at, body))
        gone = [name for name in self._pub if name not in wanted]
        for name in gone:
            del self._pub[name]
        if self._live is not None and self._live.ticks % PRUNE_EVERY == 0:
            self._live.prune(lock)  # the change log rows read already
        if not bodies and not gone:  # nothing new: nobody needs telling
            return Publication(self.version, self.newest_wall, {}, [])
        with lock.transaction():
            if bodies:
                with lock.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO live_topics (topic, seq, version, computed_at, data)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (topic) DO UPDATE SET"
                        " seq = excluded.seq, version = excluded.version,"
                        " computed_at = excluded.computed_at, data = excluded.data",
                        bodies,
                    )
            if gone:
                lock.execute("DELETE FROM live_topics WHERE topic = ANY(%s)", (gone,))
            lock.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, f"{version} {wall}"))
        return Publication(version, wall, changed, gone)

    def _read_published(self, wanted: set[str], have: int, cached: set[str]) -> dict[str, Topic]:
        rows = self._sql(
            "SELECT topic, seq, version, computed_at, data FROM live_topics"
            " WHERE topic = ANY(%s) AND (version > %s OR NOT topic = ANY(%s))",
            (sorted(wanted), have, sorted(cached & wanted)),
        )
        return {name: _topic(seq, v, at, data) for name, seq, v, at, data in rows}

    def compute(self, wanted: set[str], *, version: int, computed_at: str) -> dict[str, Any]:
        """The payloads of the wanted topics that changed. An event tick (the engine's
        `update`) recomputes only the groups what arrived touched and rebuilds the topics that
        show them; the clock's computation (every `clock_s`, and whenever the event tick cannot
        say: a new window, a new configuration) computes every row at now."""
        config, config_version = self.config()
        levels = levels_for(wanted)
        now = self.clock.now()
        windows = config.live.windows
        with self.engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            if (
                self._rows is not None
                and self._live is not None
                and self._live.windows == windows
                and set(levels) <= self._levels
                and time.monotonic() - self._clocked < self.clock_s
            ):
                update = self._live.update(pg, config, now=now, config_version=config_version)
                if update is not None:
                    return self._event_tick(
                        pg, config, config_version, wanted, update, meta_at=(version, computed_at)
                    )
            return self._clock_tick(
                pg, config, config_version, wanted, levels, now, version, computed_at
            )

    def _event_tick(
        self,
        pg: Any,
        config: CallboardConfig,
        config_version: int | None,
        wanted: set[str],
        update: Update,
        *,
        meta_at: tuple[int, str],
    ) -> dict[str, Any]:
        assert self._rows is not None
        rows, default = self._rows, config.live.windows[0]
        for w, levels in rows.items():
            for level, groups in levels.items():
                fresh = update.rows.get(w, {}).get(level, {})
                for lv, key in update.touched:
                    if lv != level:
                        continue
                    row = fresh.get(key)
                    if row is None:
                        groups.pop(key, None)
                    else:
                        groups[key] = row
        topics = affected(wanted, update.touched, rows[default])
        # new here (its first payload), or awaited by a new subscriber here
        topics |= {t for t in wanted if t not in self._pub} | (self._waiting & wanted)
        if not topics and not self.notified and not self._alerts_due:
            return {}
        # plugged-in kinds and alerts read any row or table (an acknowledgement NOTIFYs):
        # evaluated again whenever something arrived
        topics |= {t for t in wanted if t.partition(":")[0] not in BUILT_IN}
        return self._payloads(
            pg, config, config_version, topics, rows, update.now, *meta_at, update.touched
        )

    def _clock_tick(
        self,
        pg: Any,
        config: CallboardConfig,
        config_version: int | None,
        wanted: set[str],
        levels: tuple[Any, ...],
        now: datetime,
        version: int,
        computed_at: str,
    ) -> dict[str, Any]:
        windows = config.live.windows
        result = self._incremental(pg, config, config_version, now, levels, windows)
        if result is None:  # the engine is being built: this tick computes in full
            result = compute_windows(
                pg,
                config,
                levels=levels,
                now=now,
                windows=windows,
                config_version=config_version,
            )
            self._rows = None
        else:
            self._clocked = time.monotonic()
        rows: Rows = {
            w: {lv: {r["key"]: r for r in res[lv]["rows"]} for lv in levels}
            for w, res in result.items()
        }
        if self._live is not None and self._live.ready:
            self._rows, self._levels, self._cards = rows, set(levels), {}
        return self._payloads(
            pg, config, config_version, wanted, rows, now, version, computed_at, None
        )

    def _payloads(
        self,
        pg: Any,
        config: CallboardConfig,
        config_version: int | None,
        wanted: set[str],
        rows: Rows,
        now: datetime,
        version: int,
        computed_at: str,
        touched: set[tuple[Level, str]] | None,
    ) -> dict[str, Any]:
        """The payloads of the topics `wanted` from the rows (`touched`: the groups an event
        tick changed, the scorecards of the others' teams are kept)."""
        kinds = {t.partition(":")[0] for t in wanted}
        if kinds & {"agent", "team"} and "agent" in rows[config.live.windows[0]]:
            agents = rows[config.live.windows[0]]["agent"]
            teams: set[Any] | None = None
            if touched is not None:
                teams = {k for lv, k in touched if lv == "team"}
                teams |= {
                    agents[k].get("team") for lv, k in touched if lv == "agent" and k in agents
                }
            self._cards.update(scorecards(config, agents, teams))
            for k in [k for k in self._cards if k not in agents]:
                del self._cards[k]
        out, meta = frame_payloads(
            pg, config, config_version, wanted, rows, now, version, computed_at, self._cards
        )
        default = config.live.windows[0]
        for kind in kinds & KINDS.keys():
            try:
                out[kind] = {**KINDS[kind].produce(pg, config, rows, now), "meta": meta}
            except Exception:  # one plugged-in kind failing never costs the others
                log.exception("live hub: topic kind %s failed", kind)
        # alerts: evaluated on this tick's rows (every window), and their topics
        return out | self._alerts(wanted, rows, config, now, window=default)

    def _incremental(
        self,
        pg: Any,
        config: CallboardConfig,
        config_version: int | None,
        now: datetime,
        levels: tuple[Any, ...],
        windows: tuple[str, ...],
    ) -> Any:
        """The live engine's rows, or None while it is built on a thread of its own (at the
        start, on a new configuration or set of queues): building takes a few full
        computations' time, and the screens must not wait for it."""
        if self._building is not None:
            if not self._building.done():
                return None
            error = self._building.exception()
            self._building = None
            if error is not None:
                log.error("live hub: building the live engine failed: %s", error)
        if self._live is None or self._live.windows != windows:
            self._live = LiveEngine(windows)
        live = self._live
        result = live.rows(
            pg, config, now=now, config_version=config_version, levels=levels, full=False
        )
        if result is None:
            future = self._pool.submit(self._prepare, live, config, config_version)
            self._inflight.add(future)  # stop() cancels its statement and waits for it
            future.add_done_callback(self._inflight.discard)
            self._building = future
        return result

    def _prepare(self, live: LiveEngine, config: CallboardConfig, version: int | None) -> None:
        if self._closed:
            return
        with self.engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            self._building_conn = pg
            try:
                live.prepare(pg, config, now=self.clock.now(), config_version=version)
            finally:
                self._building_conn = None
                conn.rollback()

    # --- alerts (app/alerts/live.py): evaluated on the tick's rows; the alerts topics -------

    alerts_evaluated_at = 0.0

    def _alerts(
        self, wanted: set[str], rows: Any, config: CallboardConfig, now: Any, *, window: str
    ) -> dict[str, dict[str, Any]]:
        """The alerts topics; the rules evaluated first, at most once per `tick_s`: a tick
        follows every NOTIFY (batches may come many times a second) and an evaluation is a
        transaction that may read the forecast or compute rows. One put off is due on the
        next tick, so a breach waits at most a tick (as when ticks came at most every
        `tick_s`)."""
        from app.alerts.live import tick

        evaluate = time.monotonic() - self.alerts_evaluated_at >= self.tick_s
        if evaluate:
            self.alerts_evaluated_at = time.monotonic()
        self._alerts_due = not evaluate
        return tick(self.engine, config, rows, now, wanted, window=window, evaluate=evaluate)

    def _apply(self, step: Publication) -> None:
        changed = set()
        for name, topic in step.topics.items():
            current = self.topics.get(name)
            if current is None or current.seq < topic.seq or current.version < topic.version:
                self.topics[name] = topic
                changed.add(name)
        for name in step.gone:
            self.topics.pop(name, None)
        wanted = self.wanted()
        for name in [n for n in self.topics if n not in wanted]:
            del self.topics[name]  # nobody here subscribes to it any more
        self.version = max(self.version, step.version)
        self.newest_wall = max(self.newest_wall, step.wall)
        for sub in self.subscribers:
            if sub.topics & changed or PENDING in sub.sent.values():
                sub.wake.set()


def scorecards(
    config: CallboardConfig, agents: dict[str, dict[str, Any]], teams: set[Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The agents' scorecards (of these `teams` only, or of all): an agent is judged against
    their team."""
    by_team: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in agents.values():
        if teams is None or row.get("team") in teams:
            by_team[row.get("team")].append(row)
    return {c["key"]: c for members in by_team.values() for c in scored(config, "agent", members)}


def frame_payloads(
    pg: Any,
    config: CallboardConfig,
    config_version: int | None,
    wanted: set[str],
    rows: Rows,
    now: datetime,
    version: int,
    computed_at: str,
    cards: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payloads of the built-in topics `wanted` from the rows (window -> level -> key ->
    row) at `now`, and their meta: what the leader publishes and what a replay
    (app/live/replay.py) shows, one code for both."""
    windows = config.live.windows
    default = windows[0]
    kinds = {t.partition(":")[0] for t in wanted}
    levels = tuple(rows[default])
    balances = None
    center_row = rows[default].get("center", {}).get("center")
    if "center" in kinds and center_row is not None:
        balances = center_balances(pg, config, center_row, now=now)
    meta = {
        "version": version,
        "computed_at": computed_at,
        "now": _iso(now),
        "default_window": default,
        "windows": _windows(windows, now, config.defaults.timezone) if levels else {},
        "config_version": config_version,
        "timezone": config.defaults.timezone,
    }
    out = payloads(wanted, rows, meta, scorecards=cards, balances=balances, config=config)
    return out, meta


def _windows(windows: tuple[str, ...], now: datetime, tz: str) -> dict[str, dict[str, str]]:
    """Each window's bounds at `now` (the rows' `from` and `to`)."""
    out = {}
    for w in windows:
        main = resolve(w, now=now, tz=tz)
        out[w] = {"from": _iso_rows(main.start), "to": _iso_rows(main.end)}
    return out


def _core(payload: dict[str, Any]) -> bytes:
    """The payload without what changes at every computation (the meta's timing)."""
    meta = payload.get("meta") or {}
    stable = {k: v for k, v in meta.items() if k not in ("version", "computed_at", "now")}
    stable["windows"] = {w: (b or {}).get("from") for w, b in (meta.get("windows") or {}).items()}
    return orjson.dumps({**payload, "meta": stable})


def _topic(seq: int, version: int, computed_at: datetime | str, data: bytes) -> Topic:
    at = datetime.fromisoformat(computed_at) if isinstance(computed_at, str) else computed_at
    return Topic(seq, orjson.loads(data), version, _iso(at), at.timestamp())


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
