"""The live engine: the live snapshot's parts kept up to date from what changed.

The full computation (app/metrics/service.py) reads every window's rows at every tick, so its
cost follows the size of the floor and of the window. The engine reads only what changed:

- **Contact parts** (outcome, arrivals, handling, surveys, ring-no-answers: every family of
  `parts.FAMILIES`) are kept per 10-second bucket and group (center, queue, team, agent) for
  the span the windows cover, with each window's running total. A tick reads again only the
  buckets a write touched (the change log `live_changes`, filled by triggers in the writing
  transaction), the buckets of the customer's neighbouring contacts (resolution looks at the
  next first contact, a repeat at the previous one) and the buckets whose resolution matured
  since the last tick; it reads the bucket in progress and the part-bucket at the head of a
  rolling window directly. Rolling windows slide by dropping the buckets that left them.
- **Agent time** is the closed intervals' time (recomputed for the agents whose intervals
  changed) plus the open interval's time up to now (from the agents' states now); rolling
  windows sum the few closed intervals they hold.
- **Adherence** is recomputed for the agents whose states or schedules changed and those with
  a schedule running now.

Everything else (waiting now, agents by state, the rows) is what the full computation does,
on these parts. The result equals the full computation for every metric, window and level
(tests/live/test_engine.py holds them equal on random streams). A full computation happens at
the start, when the configuration or the set of queues changes, when the clock goes back, and
after a bulk rewrite (more than `MAX_CHANGES` changed rows, or a rebuild).

Two steps use this state. `rows` (the clock's computation, every few seconds, and what replay
of a past moment reuses: it never reads the wall clock) brings everything to `now` and returns
every row. `update` (an event tick) reads only the change log when nothing arrived and no
bucket or resolution boundary passed; otherwise it brings the contact parts to `now` and
evaluates only the groups the changes touched, their agent time and adherence (what moves with
the clock between two events) as the last `rows` left them."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from app.config import CallboardConfig
from app.metrics import parts as P
from app.metrics.registry import LEVELS, METRICS, Level, evaluate
from app.metrics.service import (
    WAITING_HORIZON_H,
    Shared,
    _agent_state,
    _iso,
    compute_many,
    known_queues,
)
from app.metrics.windows import ROLLING, interval_start, local_midnight, resolve

log = logging.getLogger(__name__)

# The grain the contact parts are kept in: a changed row costs reading its bucket again, so
# the smaller the cheaper a tick (windows start on whole minutes: any divisor of a minute).
BUCKET = timedelta(seconds=10)
MAX_CHANGES = 50_000  # changed rows in one tick above which everything is computed again
EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")

# The segments whose parts a changed contact (customer c, queued at t) can change besides its
# own: every segment of the call of the customer's first contact just before t (first-contact
# resolution looks at the next first contact), and every segment of the customer queued after
# t up to their next first contact (a repeat looks at the previous first contact). Within the
# longest repeat window; what lies beyond it is unaffected.
_NEIGHBOURS = """
SELECT s.queued_at, s.handled_at
FROM unnest(%(c)s::text[], %(t)s::timestamptz[]) AS x(customer, t)
CROSS JOIN LATERAL (
  SELECT f.call_id FROM contact_segments f
  WHERE f.customer = x.customer AND f.is_first AND f.queued_at < x.t
    AND f.queued_at >= x.t - make_interval(secs => %(rw)s)
  ORDER BY f.queued_at DESC LIMIT 1) prev
JOIN contact_segments s ON s.call_id = prev.call_id
UNION ALL
SELECT s.queued_at, NULL
FROM unnest(%(c)s::text[], %(t)s::timestamptz[]) AS x(customer, t)
CROSS JOIN LATERAL (
  SELECT min(f.queued_at) AS at FROM contact_segments f
  WHERE f.customer = x.customer AND f.is_first AND f.queued_at > x.t
    AND f.queued_at <= x.t + make_interval(secs => %(rw)s)) nxt
JOIN contact_segments f ON f.customer = x.customer AND f.is_first
  -- calls that began up to a contact's longest life before (a later segment of theirs)
  AND f.queued_at > x.t - make_interval(secs => %(life)s)
  AND f.queued_at <= coalesce(nxt.at, x.t + make_interval(secs => %(rw)s))
JOIN contact_segments s ON s.call_id = f.call_id AND s.queued_at > x.t
  AND s.queued_at <= coalesce(nxt.at, x.t + make_interval(secs => %(rw)s))
"""

# the part telling that a family has rows for a group (the full computation's GROUP BY
# yields only groups with rows; a running total back at zero must vanish the same way)
PRESENCE = {
    "outcome": "n_outcome",
    "outcome_c": "n_outcome",
    "arrived": "arrived",
    "arrived_c": "arrived",
    "handled": "handled",
    "feedback": "n_feedback",
    "missed": "missed",
}
NOT_SUMMED = frozenset({"fcr_next_change"})
PEOPLE_LEVELS: tuple[Level, ...] = ("center", "team", "agent")

Group = tuple[Level, str]
Parts = dict[str, Any]
Families = dict[str, dict[Group, Parts]]  # family -> group -> parts


def floor_b(t: datetime) -> datetime:
    return EPOCH + ((t - EPOCH) // BUCKET) * BUCKET


def ceil_b(t: datetime) -> datetime:
    f = floor_b(t)
    return f if f == t else f + BUCKET


def buckets(lo: datetime, hi: datetime) -> Iterator[datetime]:
    m = lo
    while m < hi:
        yield m
        m += BUCKET


def _add(into: Parts, parts: Parts, sign: int = 1) -> None:
    for k, v in parts.items():
        if v is None or k in NOT_SUMMED:
            continue
        into[k] = (into.get(k) or 0) + (v if sign > 0 else -v)


@dataclass
class _Interval:
    start: datetime
    end: datetime
    state: str
    reason: str | None


@dataclass
class Stats:
    """What the last tick did (for the bench and the logs)."""

    full: bool = False
    changes: int = 0
    buckets_read: int = 0
    agents_read: int = 0


@dataclass
class Update:
    """What an event tick brings: the touched groups, and their rows at `now` (window ->
    level -> key -> row; a touched group missing there no longer has a row)."""

    rows: dict[str, dict[Level, dict[str, dict[str, Any]]]]
    touched: set[Group]
    now: datetime


SpanKey = tuple[str, Level, str]  # window, level, time zone ("" when the start has none)


@dataclass
class Engine:
    """One live leader's incremental state. `rows()` returns what
    `service.compute_windows` returns for the same instant."""

    windows: tuple[str, ...]
    levels: tuple[Level, ...] = LEVELS
    config_version: int | None = None
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self._ready = False
        self.evaluated: dict[Any, Any] = {}
        self._since_iso: dict[str, tuple[datetime, str]] = {}
        self.ticks = 0
        self.watermark = 0
        # window -> (agent -> time parts, team/center -> their sums) at the last rows()
        self._clock: dict[str, tuple[dict[str, Parts], dict[Group, Parts]]] = {}
        self._pending: set[str] = set()  # agents an event tick saw change (the clock's to read)
        self._overlay: dict[str, P.AgentNow | None] = {}  # their states now (event ticks)
        # level -> group -> agents by state (what `agents_by_state` shows), kept by event ticks
        self._counts: dict[str, dict[str, Counter[str]]] = {}

    @property
    def ready(self) -> bool:
        return self._ready

    def prepare(
        self,
        conn: psycopg.Connection[Any],
        config: CallboardConfig,
        *,
        now: datetime,
        config_version: int | None,
    ) -> None:
        """Build the state from the stored rows (the full computation of the engine)."""
        self.stats = Stats()
        self._full(conn, config, known_queues(conn, config), now, config_version)

    def reset(self) -> None:
        """Compute everything at the next tick (a new leader, a lost connection)."""
        self._ready = False

    def prune(self, conn: psycopg.Connection[Any]) -> int:
        """Drop the change log rows already read (any connection; commits if autocommit)."""
        if not self._ready:
            return 0
        cur = conn.execute("DELETE FROM live_changes WHERE xid < %s", (self.watermark,))
        return cur.rowcount

    # --- the tick -----------------------------------------------------------------------

    def rows(
        self,
        conn: psycopg.Connection[Any],
        config: CallboardConfig,
        *,
        now: datetime,
        config_version: int | None,
        levels: tuple[Level, ...] | None = None,
        full: bool = True,
    ) -> dict[str, dict[Level, dict[str, Any]]] | None:
        """The rows of `levels` (default: all the engine keeps) over every window at `now`.
        When the state must be built again (see the module's text) and `full` is False,
        returns None at once instead (the caller computes in full meanwhile and builds the
        engine with `prepare`, which takes a few times as long)."""
        queues = known_queues(conn, config)
        self.stats = Stats()
        if (
            not self._ready
            or config_version != self.config_version
            or queues != self.queues
            or now < self.now
            or not self._step(conn, now)
        ):
            self._ready = False
            if not full:
                return None
            self._full(conn, config, queues, now, config_version)
        self.ticks += 1
        shared = Shared(evaluated=self.evaluated, queues=queues, agents=self.agents_now)
        wanted = levels or self.levels
        others = tuple(lv for lv in wanted if lv != "agent")
        out: dict[str, dict[Level, dict[str, Any]]] = {}
        states = {}
        for a in self.agents_now:  # the same for every window; `state_since` formatted once
            known = self._since_iso.get(a.agent)
            if known is None or known[0] != a.since:
                self._since_iso[a.agent] = known = (a.since, _iso(a.since))
            states[a.agent] = {
                "state": a.state,
                "state_since": known[1],
                "reason": a.reason,
                "time_in_state_s": round((now - a.since).total_seconds(), 1),
                "team": a.team,
                "name": a.name,
                "queues": a.queues,
            }
        self._clock = {}
        for w in self.windows:
            shared.window = w
            parts, people, sums = self._parts(w)
            self._clock[w] = (people, sums)
            out[w] = (
                compute_many(
                    conn,
                    config,
                    levels=others,
                    now=now,
                    window=w,
                    config_version=config_version,
                    shared=shared,
                    given=parts,
                )
                if others
                else {}
            )
            if "agent" in wanted:
                out[w]["agent"] = self._agent_rows(
                    w, parts["agent"], people, states, now, config_version
                )
        self.clock_now = now
        self._overlay = {}
        self._counts = {}
        for a in self.agents_now:
            _count(self._counts, a, +1)
        return out

    def update(
        self,
        conn: psycopg.Connection[Any],
        config: CallboardConfig,
        *,
        now: datetime,
        config_version: int | None,
    ) -> Update | None:
        """An event tick: the rows at `now` of the groups that what arrived since the last tick
        touched, their clock-driven parts (agent time, adherence) as of the last `rows()`
        (`clock_now`). Nothing is read but the change log when nothing arrived and no bucket
        or resolution boundary passed. None: a window's start moved (a new interval, a
        midnight) or the state must be built again: call `rows()`."""
        if (
            not self._ready
            or config_version != self.config_version
            or now < self.now
            or any(
                self._start(w, now, zone) != self._start(w, self.clock_now, zone)
                for w in self._fixed()
                for zone in {self.tz, *self.zones.values()}
            )
        ):
            return None
        self.stats = Stats()
        changes = self._changes(conn)
        if changes is None:
            self._ready = False
            return None
        if (
            not changes
            and floor_b(now) == self.hi
            and not any(t <= now for t in self.expiry.values())
        ):
            return Update({}, set(), now)
        if known_queues(conn, config) != self.queues:
            self._ready = False
            return None
        touched, dirty_agents = self._contacts(conn, now, changes)
        if dirty_agents:
            self._pending |= dirty_agents
            fresh = {a.agent: a for a in P.agents_now(conn, now, sorted(dirty_agents))}
            self._learn_teams(conn, dirty_agents)
            before = {a.agent: a for a in self.agents_now if a.agent in dirty_agents}
            for agent in dirty_agents:
                old = self._overlay.get(agent, before.get(agent))
                new = fresh.get(agent)
                self._overlay[agent] = new
                _count(self._counts, old, -1)
                _count(self._counts, new, +1)
                touched.add(("agent", agent))
                touched.add(("team", self.teams.get(agent, "unassigned")))
                for a in (old, new):
                    if a is not None:
                        touched.add(("team", a.team or "unassigned"))
                        touched.update(("queue", q) for q in a.queues or ())
        if touched:
            touched.add(("center", "center"))
        return Update(self._touched_rows(conn, touched, now), touched, now)

    def _touched_rows(
        self, conn: psycopg.Connection[Any], touched: set[Group], now: datetime
    ) -> dict[str, dict[Level, dict[str, dict[str, Any]]]]:
        """The rows of these groups (window -> level -> key -> row; a group not there is
        gone) with the contact parts at `now` and the clock-driven parts of the last rows()."""
        among: dict[Level, set[str]] = defaultdict(set)
        for level, key in touched:
            if level in self.levels:
                among[level].add(key)
        # the agents a touched group's row reads: its members (whether a team has someone
        # logged in); the counts by state are kept up to date apart
        teams, touched_agents = among.get("team", set()), among.get("agent", set())
        current = [
            a
            for a in (self._overlay.get(a.agent, a) for a in self.agents_now)
            if a is not None and ((a.team or "unassigned") in teams or a.agent in touched_agents)
        ]
        current += [
            a
            for k, a in self._overlay.items()
            if a is not None and k not in self._open and (a.team or "unassigned") in teams
        ]
        shared = Shared(evaluated=self.evaluated, queues=self.queues, agents=current)
        for level in ("center", "queue", "team"):
            counts = self._counts.get(level, {})
            shared.by_state[level] = {
                k: dict(sorted((n, c) for n, c in counts[k].items() if c))
                for k in among.get(level, ())
                if k in counts and any(counts[k].values())
            }
        others = tuple(lv for lv in self.levels if lv != "agent" and among.get(lv))
        states = {a.agent: _agent_state(a, now) for a in current if a.agent in touched_agents}
        out: dict[str, dict[Level, dict[str, dict[str, Any]]]] = {}
        for w in self.windows:
            shared.window = w
            contact = self._contact_parts(w)
            people, sums = self._clock[w]
            given: dict[Level, dict[str, Parts]] = {lv: {} for lv in self.levels}
            for level, keys in among.items():
                for key in keys:
                    mine, time_p = contact.get((level, key)), sums.get((level, key))
                    if level == "agent" or time_p is None:
                        if mine is not None:
                            given[level][key] = mine
                    else:
                        given[level][key] = time_p if mine is None else {**mine, **time_p}
            found = (
                compute_many(
                    conn,
                    self.config,
                    levels=others,
                    now=now,
                    window=w,
                    config_version=self.config_version,
                    shared=shared,
                    given=given,
                    among=among,
                )
                if others
                else {}
            )
            out[w] = {lv: {r["key"]: r for r in res["rows"]} for lv, res in found.items()}
            if "agent" in among:
                res = self._agent_rows(
                    w, given["agent"], people, states, now, self.config_version, among["agent"]
                )
                out[w]["agent"] = {r["key"]: r for r in res["rows"]}
        return out

    def _agent_rows(
        self,
        w: str,
        parts: dict[str, Parts],
        people: dict[str, Parts],
        states: dict[str, dict[str, Any]],
        now: datetime,
        config_version: int | None,
        among: set[str] | None = None,
    ) -> dict[str, Any]:
        """The agent level's result (as `compute_many` gives it; `among`: only these agents,
        those present). An agent whose contact parts did not change since the last tick gets
        only its time-based metrics evaluated again (every logged-in agent's time moves with
        the clock)."""
        cache = self._rows_cache.setdefault(w, {})
        formula = self.config.defaults.sl_formula
        if among is None:
            keys = set(parts) | set(people)
            keys |= {a.agent for a in self.agents_now if a.state != "logged_out"}
        else:
            keys = {k for k in among if k in parts or k in people or k in states}
        rows = []
        for key in sorted(keys):
            p = parts.get(key, _EMPTY)  # contact parts only
            time_p = people.get(key, _EMPTY)
            known = cache.get(key)
            if known is not None and known[0] == p:
                row = dict(known[1])
                small = dict(time_p)
                small["handled"] = p.get("handled")
                for name, f, digits in _TIME_METRICS:
                    value = f(small)
                    if digits is not None and value.__class__ is float:
                        value = round(value, digits)
                    row[name] = value
                cache[key] = (known[0], row)
            else:
                full = {**p, **time_p, "sl_formula": formula}
                row = {"key": key, **evaluate(full, "agent")}
                cache[key] = (dict(p), row)
            state = states.get(key)
            row.update(state if state is not None else _NO_STATE)
            rows.append(row)
        for key in [k for k in cache if k not in keys] if among is None else []:
            del cache[key]
        main = resolve(w, now=now, tz=self.tz)
        return {
            "from": _iso(main.start),
            "to": _iso(main.end),
            "by": "agent",
            "window": w,
            "now": _iso(now),
            "config_version": config_version,
            "rows": rows,
        }

    # --- full computation ---------------------------------------------------------------

    def _full(
        self,
        conn: psycopg.Connection[Any],
        config: CallboardConfig,
        queues: list[str],
        now: datetime,
        config_version: int | None,
    ) -> None:
        self.stats.full = True
        self._ready = False
        self.config, self.queues, self.config_version = config, queues, config_version
        self.evaluated = {}
        self._rows_cache: dict[str, dict[str, tuple[Parts, dict[str, Any]]]] = {}
        self.tz = config.defaults.timezone
        self.zones = {q: config.queue(q).timezone for q in queues}
        self.params = []
        for q in queues:
            self.params.append(P.QueueWindow.of(q, config.queue(q), now, now))
        self.max_rw = timedelta(hours=max([c.repeat_window_h for c in self.params] or [0]))
        self.watermark = self._xmin(conn)
        self.now = now
        self.hi = floor_b(now)
        self.spans = {k: self._span(k, now) for k in self._span_keys()}
        self.lo = min([lo for lo, _ in self.spans.values()] or [self.hi])
        read = list(buckets(self.lo, self.hi))
        self.stats.buckets_read = len(read)
        self.store: dict[datetime, dict[Group, Parts]] = self._read(conn, read, now, dense=BUCKET)
        self.expiry: dict[datetime, datetime] = {}
        for m in self.store:
            self._note_expiry(m)
        self.totals: dict[str, dict[Group, Parts]] = {w: {} for w in self.windows}
        by_minute: dict[datetime, set[SpanKey]] = defaultdict(set)
        for key, (lo, hi) in self.spans.items():
            for m in buckets(lo, hi):
                by_minute[m].add(key)
        for m, keys in by_minute.items():
            self._shift(m, +1, keys)
        self._edges(conn, now)
        # agents
        self.teams: dict[str, str] = dict(
            conn.execute("SELECT id, coalesce(team, 'unassigned') FROM agents").fetchall()
        )
        self.agents_now = P.agents_now(conn, now)
        self._open = {a.agent: (a.since, a.state) for a in self.agents_now}
        self._closed_start: dict[str, datetime] = {}
        self.closed: dict[str, dict[str, Parts]] = {w: {} for w in self._fixed()}
        self.recent: dict[str, list[_Interval]] = {}  # agent -> closed intervals (rolling)
        self._read_agents(conn, None, now, self._fixed())
        self.adherence: dict[str, dict[str, Parts]] = {w: {} for w in self.windows}
        self._read_adherence(conn, None, now, now)
        self.clock_now = now
        self._pending = set()
        self._overlay = {}
        self._ready = True

    # --- one step -----------------------------------------------------------------------

    def _changes(self, conn: psycopg.Connection[Any]) -> list[Any] | None:
        """The change log's rows not read yet; None: too many, or a rebuild (compute all)."""
        xmin = self._xmin(conn)
        changes = conn.execute(
            "SELECT kind, t1, t2, t3, customer, agent FROM live_changes WHERE xid >= %s LIMIT %s",
            (self.watermark, MAX_CHANGES + 1),
        ).fetchall()
        self.stats.changes = len(changes)
        if len(changes) > MAX_CHANGES or any(c[0] == "x" for c in changes):
            return None
        self.watermark = xmin
        return changes

    def _step(self, conn: psycopg.Connection[Any], now: datetime) -> bool:
        """Bring the state from `self.now` to `now`; False: compute everything instead."""
        changes = self._changes(conn)
        if changes is None:
            return False
        dirty_agents = self._contacts(conn, now, changes)[1] | self._pending
        self._pending = set()
        prev = self.clock_now
        self._agents(conn, now, prev, dirty_agents)
        return True

    def _contacts(
        self, conn: psycopg.Connection[Any], now: datetime, changes: list[Any]
    ) -> tuple[set[Group], set[str]]:
        """Bring the contact parts from `self.now` to `now`: the groups whose parts (in some
        window, the bucket in progress and a rolling window's head included) may have changed,
        and the agents the changes name."""
        hi = floor_b(now)
        touched: set[Group] = set()
        dirty: set[datetime] = set()
        customers: set[tuple[str, datetime]] = set()  # (customer, queued at) of changed rows
        dirty_agents: set[str] = set()
        for kind, t1, t2, t3, customer, agent in changes:
            if kind in ("s", "f", "m"):
                dirty.update(floor_b(t) for t in (t1, t2, t3) if t is not None)
                if customer is not None and t1 is not None:
                    customers.add((customer, t1))
            elif agent is not None:  # agent states, schedules
                dirty_agents.add(agent)
        if customers:
            # A contact changes two of its customer's other contacts: the first contact just
            # before it (its resolution: the handling of that call's segments) and the
            # arrivals after it up to the next first contact (whether they are repeats).
            for arrived, handled in conn.execute(_NEIGHBOURS, self._neighbours(customers)):
                if arrived is not None:
                    dirty.add(floor_b(arrived))
                if handled is not None:
                    dirty.add(floor_b(handled))
        # first contacts whose resolution became final since the last tick
        dirty.update(m for m, t in self.expiry.items() if t <= now)
        redo = sorted(m for m in dirty if self.lo <= m < self.hi)
        new = list(buckets(self.hi, hi))
        self.stats.buckets_read = len(redo) + len(new)
        self.now = now
        tail, head = self.tail, self.head
        few = len(new) <= 3  # read with the edges; many (a gap): in one pass of their own
        fresh = dict(self._edges(conn, now, redo + new if few else redo))
        if new and not few:
            fresh.update(self._read(conn, new, now, dense=BUCKET))
        for m in redo:  # a changed minute: its difference to the totals that hold it
            keys = {k for k, (lo, span_hi) in self.spans.items() if lo <= m < span_hi}
            old, now_parts = self.store.get(m, {}), fresh.get(m, {})
            changed = {
                g: p for g, p in old.items() if now_parts.get(g) != p
            }  # most groups of a minute read again did not change
            added = {g: p for g, p in now_parts.items() if old.get(g) != p}
            touched.update(changed)
            touched.update(added)
            self.store[m] = changed
            self._shift(m, -1, keys)
            self.store[m] = added
            self._shift(m, +1, keys)
            self.store[m] = now_parts
            self._note_expiry(m)
        for m in new:
            self.store[m] = fresh.get(m, {})
            touched.update(self.store[m])
            self._note_expiry(m)
        self.hi = hi
        moved: dict[datetime, dict[int, set[SpanKey]]] = defaultdict(lambda: defaultdict(set))
        for key in self.spans:  # slide: the buckets that entered and left each window
            was, span = self.spans[key], self._span(key, now)
            for sign, (lo, top) in [(-1, r) for r in _minus(was, span)] + [
                (+1, r) for r in _minus(span, was)
            ]:
                for m in buckets(lo, top):
                    moved[m][sign].add(key)
            self.spans[key] = span
        for m, signs in moved.items():
            touched.update(self.store.get(m, ()))
            for sign, keys in signs.items():
                self._shift(m, sign, keys)
        lo = min([s for s, _ in self.spans.values()] or [hi])
        for m in [m for m in self.store if m < lo]:
            del self.store[m]
            self.expiry.pop(m, None)
        self.lo = lo
        for before, after in [(tail, self.tail)] + [
            (head.get(w, {}), self.head.get(w, {})) for w in self.windows if w in ROLLING
        ]:
            touched.update(g for g in before.keys() | after.keys() if before.get(g) != after.get(g))
        return touched, dirty_agents

    def _agents(
        self, conn: psycopg.Connection[Any], now: datetime, prev: datetime, dirty_agents: set[str]
    ) -> None:
        """Bring the agents' states, closed time and adherence from `prev` to `now`."""
        agents_now = P.agents_now(conn, now)
        opened = {a.agent: (a.since, a.state) for a in agents_now}
        for agent in opened.keys() | self._open.keys():
            if opened.get(agent) != self._open.get(agent):
                dirty_agents.add(agent)
        self.agents_now, self._open = agents_now, opened
        self._learn_teams(conn, dirty_agents)
        moved_windows = [
            w for w in self._fixed() if self._start(w, now, self.tz) != self._closed_start.get(w)
        ]
        if moved_windows:  # a new day, a new interval: that window's closed time again
            self._read_agents(conn, None, now, moved_windows, rolling=False)
        if dirty_agents:
            self._read_agents(conn, sorted(dirty_agents), now, self._fixed())
        self._read_adherence(conn, sorted(dirty_agents), prev, now)

    def _learn_teams(self, conn: psycopg.Connection[Any], agents: set[str]) -> None:
        """The teams of agents first seen since the full computation."""
        unknown = [a for a in agents if a not in self.teams]
        if unknown:
            self.teams.update(
                conn.execute(
                    "SELECT id, coalesce(team, 'unassigned') FROM agents WHERE id = ANY(%s)",
                    (unknown,),
                ).fetchall()
            )

    def _neighbours(self, touched: set[tuple[str, datetime]]) -> dict[str, Any]:
        pairs = sorted(touched)
        return {
            "c": [c for c, _ in pairs],
            "t": [t for _, t in pairs],
            "rw": self.max_rw.total_seconds(),
            "life": WAITING_HORIZON_H * 3600,
        }

    # --- contact parts ------------------------------------------------------------------

    def _read(
        self,
        conn: psycopg.Connection[Any],
        ms: list[datetime],
        now: datetime,
        *,
        dense: timedelta | None = None,
    ) -> dict[datetime, dict[Group, Parts]]:
        """These whole minutes' contact parts: minute -> group -> parts (families merged)."""
        out: dict[datetime, dict[Group, Parts]] = defaultdict(dict)
        if not ms:
            return out
        found = P.range_parts(
            conn, self.levels, self.params, [(m, m + BUCKET) for m in ms], now=now, dense=dense
        )
        for levels in found.values():
            for level, groups in levels.items():
                for (start, key), parts in groups.items():
                    t = out[start].get((level, key))
                    if t is None:
                        out[start][(level, key)] = dict(parts)
                    else:
                        t.update(parts)
        return out

    def _span_keys(self) -> list[SpanKey]:
        keys: list[SpanKey] = []
        for w in self.windows:
            for level in self.levels:
                if w == "today" and level == "queue":
                    keys.extend((w, level, z) for z in sorted(set(self.zones.values())))
                elif w == "today":
                    keys.append((w, level, self.tz))
                else:
                    keys.append((w, level, ""))
        return keys

    def _span_of(self, w: str, level: Level, key: str) -> SpanKey:
        if w == "today":
            return (w, level, self.zones.get(key, self.tz) if level == "queue" else self.tz)
        return (w, level, "")

    def _start(self, w: str, now: datetime, tz: str) -> datetime:
        if w in ROLLING:
            return now - ROLLING[w]
        if w == "today":
            return local_midnight(now, tz)
        return interval_start(now)

    def _span(self, key: SpanKey, now: datetime) -> tuple[datetime, datetime]:
        w, _level, zone = key
        hi = floor_b(now)
        return min(ceil_b(self._start(w, now, zone or self.tz)), hi), hi

    def _shift(self, m: datetime, sign: int, keys: set[SpanKey]) -> None:
        """Add (sign +1) or take (-1) minute `m`'s parts to or from the windows of `keys`."""
        groups = self.store.get(m)
        if not groups or not keys:
            return
        windows = {k[0] for k in keys}
        for group, parts in groups.items():
            level, key = group
            for w in windows:
                if self._span_of(w, level, key) not in keys:
                    continue
                into = self.totals[w]
                t = into.get(group)
                if t is None:
                    t = into[group] = {}
                _add(t, parts, sign)
                if not _present(t):
                    del into[group]

    def _note_expiry(self, m: datetime) -> None:
        times = [
            p["fcr_next_change"] for p in self.store.get(m, {}).values() if p.get("fcr_next_change")
        ]
        if times:
            self.expiry[m] = min(times)
        else:
            self.expiry.pop(m, None)

    def _edges(
        self, conn: psycopg.Connection[Any], now: datetime, also: list[datetime] | None = None
    ) -> dict[datetime, dict[Group, Parts]]:
        """The bucket in progress and the part-bucket at the head of each rolling window (and,
        in the same statements, the whole buckets `also`: returned)."""
        tail = floor_b(now)
        ranges: list[tuple[datetime, datetime]] = [(m, m + BUCKET) for m in also or ()]
        if tail < now:
            ranges.append((tail, now))
        self.heads: dict[str, datetime] = {}
        for w in self.windows:
            if w in ROLLING:
                start = now - ROLLING[w]
                end = min(ceil_b(start), now)
                if start < end and end <= tail:
                    ranges.append((start, end))
                    self.heads[w] = start
        found: dict[datetime, dict[Group, Parts]] = defaultdict(dict)
        if ranges:
            parts = P.range_parts(conn, self.levels, self.params, ranges, now=now)
            for levels in parts.values():
                for level, groups in levels.items():
                    for (start, key), p in groups.items():
                        found[start].setdefault((level, key), {}).update(p)
        self.tail = found.get(tail, {})
        self.head = {w: found.get(s, {}) for w, s in self.heads.items()}
        return {m: found.get(m, {}) for m in also or ()}

    def _contact_parts(self, w: str) -> dict[Group, Parts]:
        """The window's contact parts per group: totals + the minute in progress + the head."""
        extra = [self.tail]
        if w in self.head:
            extra.append(self.head[w])
        if not any(extra):
            return self.totals[w]
        out = dict(self.totals[w])  # the totals' own dicts: never written to downstream
        copied: set[Group] = set()
        for src in extra:
            for group, parts in src.items():
                t = out.get(group)
                if t is None:
                    out[group] = dict(parts)
                else:
                    if group not in copied:
                        out[group] = t = dict(t)
                    _add(t, parts)
                copied.add(group)
        return out

    # --- agent time ---------------------------------------------------------------------

    def _fixed(self) -> list[str]:
        return [w for w in self.windows if w not in ROLLING]

    def _read_agents(
        self,
        conn: psycopg.Connection[Any],
        agents: list[str] | None,
        now: datetime,
        fixed: list[str],
        *,
        rolling: bool = True,
    ) -> None:
        """Closed intervals of these agents (None: all) for the windows `fixed` (and the
        rolling ones)."""
        starts = {w: self._start(w, now, self.tz) for w in fixed}
        self._closed_start.update(starts)
        heads = [now - ROLLING[w] for w in self.windows if w in ROLLING] if rolling else []
        since = min([*starts.values(), *heads] or [now])
        query = (
            "SELECT agent, started_at, ended_at, state, reason FROM agent_states"
            " WHERE ended_at > %s AND ended_at <= %s"
        )
        params: tuple[Any, ...] = (since, now)
        if agents is not None:
            query += " AND agent = ANY(%s)"
            params = (since, now, agents)
            for w in fixed:
                for a in agents:
                    self.closed[w].pop(a, None)
            if rolling:
                for a in agents:
                    self.recent.pop(a, None)
        else:
            for w in fixed:
                self.closed[w] = {}
            if rolling:
                self.recent = {}
        rows = conn.execute(query, params).fetchall()
        self.stats.agents_read += len(rows)
        horizon = min(heads) if heads else None
        for agent, s, e, state, reason in rows:
            for w, wf in starts.items():
                if e > wf:
                    _agent_time(
                        self.closed[w].setdefault(agent, {}),
                        state,
                        reason,
                        (e - max(s, wf)).total_seconds(),
                    )
            if horizon is not None and e > horizon:
                self.recent.setdefault(agent, []).append(_Interval(s, e, state, reason))

    def _agent_parts(self, w: str, now: datetime) -> dict[str, Parts]:
        """Agent -> agent-time parts over the window at `now` (new dicts)."""
        out: dict[str, Parts] = {}
        if w in ROLLING:
            wf = now - ROLLING[w]
            for agent, intervals in self.recent.items():
                for i in intervals:
                    if i.end > wf:
                        _agent_time(
                            out.setdefault(agent, {}),
                            i.state,
                            i.reason,
                            (i.end - max(i.start, wf)).total_seconds(),
                        )
        else:
            wf = self._closed_start[w]
            out = {agent: dict(parts) for agent, parts in self.closed[w].items()}
        for a in self.agents_now:
            since = a.since if a.since > wf else wf
            dur = (now - since).total_seconds()
            if dur > 0:
                mine = out.get(a.agent)
                if mine is None:
                    out[a.agent] = mine = {}
                _agent_time(mine, a.state, a.reason, dur)
        return out

    # --- adherence ----------------------------------------------------------------------

    def _read_adherence(
        self, conn: psycopg.Connection[Any], agents: list[str] | None, prev: datetime, now: datetime
    ) -> None:
        """Scheduled and adherent time of these agents (None: all), and of every agent with a
        schedule running between the last tick and now or at a window's moving start (their
        figures change with time)."""
        for w in self.windows:
            wf, wf_prev = self._start(w, now, self.tz), self._start(w, prev, self.tz)
            who: list[str] | None = None
            if agents is not None and (w in ROLLING or wf == wf_prev):
                # plans running since the last tick, and (rolling) those the start slid over
                running = conn.execute(
                    "SELECT DISTINCT agent FROM schedules"
                    " WHERE (starts_at < %s AND ends_at > %s) OR (starts_at < %s AND ends_at > %s)",
                    (now, prev, wf, wf_prev),
                ).fetchall()
                who = sorted(set(agents) | {r[0] for r in running})
                if not who:
                    continue
            found = P.adherence_parts(conn, who, wf, now, now)
            if who is None:
                self.adherence[w] = found
            else:
                for a in who:
                    self.adherence[w].pop(a, None)
                self.adherence[w].update(found)

    # --- assembly -----------------------------------------------------------------------

    def _parts(
        self, w: str
    ) -> tuple[dict[Level, dict[str, Parts]], dict[str, Parts], dict[Group, Parts]]:
        """The window's parts per level and group, and (apart) each agent's time parts and
        each team's and the center's sums of them: the agent level's entries hold only contact
        parts (`_agent_rows` joins them)."""
        out: dict[Level, dict[str, Parts]] = {lv: {} for lv in self.levels}
        for (level, key), parts in self._contact_parts(w).items():
            if level in out:
                out[level][key] = parts
        people: dict[str, Parts] = {}
        sums: dict[Group, Parts] = {}
        if not any(lv in PEOPLE_LEVELS for lv in self.levels):
            return out, people, sums
        people = self._agent_parts(w, self.now)
        for agent, parts in self.adherence.get(w, {}).items():
            mine = people.get(agent)
            if mine is None:
                people[agent] = dict(parts)
            else:
                mine.update(parts)  # no name in common with agent time
        teams = self.teams
        want_team, want_center = "team" in out, "center" in out
        center: Parts = {}
        for agent, parts in people.items():
            if want_team:
                group: Group = ("team", teams.get(agent, "unassigned"))
                t = sums.get(group)
                if t is None:
                    sums[group] = dict(parts)
                else:
                    for k, v in parts.items():
                        if v is not None:
                            t[k] = (t.get(k) or 0) + v
            if want_center:
                for k, v in parts.items():
                    if v is not None:
                        center[k] = (center.get(k) or 0) + v
        if want_center and people:
            sums[("center", "center")] = center
        for (level, key), parts in sums.items():  # never into the running totals: a new dict
            mine = out[level].get(key)
            out[level][key] = parts if mine is None else {**mine, **parts}
        return out, people, sums

    # --- helpers ------------------------------------------------------------------------

    def _xmin(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        ).fetchone()
        return int(row[0]) if row else 0


def _count(counts: dict[str, dict[str, Counter[str]]], a: P.AgentNow | None, sign: int) -> None:
    """Count an agent's state in (sign +1) or out of (-1) its groups' agents by state, as
    `service._agents_by_state` counts them."""
    if a is None or a.state == "logged_out":
        return
    groups = [("center", "center"), ("team", a.team or "unassigned")]
    groups += [("queue", q) for q in a.queues or ()]
    for level, key in groups:
        c = counts.setdefault(level, {}).setdefault(key, Counter())
        c[a.state] += sign
        c["logged_in"] += sign
        if a.state == "away":
            c[f"away:{a.reason or 'unspecified'}"] += sign


def _minus(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> list[Any]:
    """The parts of the span `a` outside the span `b` (at most two)."""
    (a0, a1), (b0, b1) = a, b
    out = []
    if a0 < min(a1, b0):
        out.append((a0, min(a1, b0)))
    if max(a0, b1) < a1:
        out.append((max(a0, b1), a1))
    return out


def _present(parts: Parts) -> bool:
    return any(parts.get(name) for name in PRESENCE_PARTS)


PRESENCE_PARTS = tuple(sorted(set(PRESENCE.values())))


def _agent_time(into: Parts, state: str, reason: str | None, dur: float) -> None:
    """One interval's time in the window, as `parts._AGENT_TIME` sums it."""
    if dur <= 0:
        return
    into["_present"] = 1
    name = _STATE_PART.get(state)
    if name:
        into[name] = (into.get(name) or 0.0) + dur
    if state == "away" and reason in ("break", "lunch"):
        into["t_breaks"] = (into.get("t_breaks") or 0.0) + dur
    if state != "logged_out":
        into["t_logged_in"] = (into.get("t_logged_in") or 0.0) + dur


_STATE_PART = {
    "on_call": "t_on_call",
    "wrap_up": "t_wrap_up",
    "available": "t_available",
    "away": "t_away",
}


# the parts that move with the clock, and every part the metrics reading them read
_TIME_PARTS = frozenset(
    {
        "t_on_call",
        "t_wrap_up",
        "t_available",
        "t_away",
        "t_breaks",
        "t_logged_in",
        "scheduled_s",
        "adherent_s",
        "_present",
    }
)
_TIME_METRICS = [
    (m.name, m.formula, m.digits)
    for m in METRICS
    if "agent" in m.levels and set(m.parts) & _TIME_PARTS
]
# what they read besides time: only `handled` (the fast path gives them just that)
assert {part for m in METRICS if set(m.parts) & _TIME_PARTS for part in m.parts} - _TIME_PARTS <= {
    "handled"
}, "a time-based metric reads a contact part: add it in _agent_rows"
# what moves with the clock between two events: evaluated by the clock's computation (`rows`);
# event ticks keep them as the last `rows` left them (the screens advance the timers)
CLOCK_DRIVEN = frozenset(
    {name for name, _f, _d in _TIME_METRICS} | {"time_in_state_s", "longest_wait_now_s"}
)
_EMPTY: Parts = {}
_NO_STATE = _agent_state(None, EPOCH)
