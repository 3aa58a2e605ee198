"""A discrete-event simulation of a contact center that speaks the event contract.

Time is in simulated seconds since `start`; events come out in time order as contract dicts.
Deterministic for a seed: the same seed and center give the same events.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ingest.sim.center import AgentSpec, Center, QueueSpec, curve

STYLE = {  # what an agent's style does to a contact
    "steady": {
        "talk": 1.0,
        "acw": 1.0,
        "hold": 0.2,
        "rona": 0.015,
        "resolve": 0.8,
        "hangup": 0.06,
        "qa": 87.0,
        "short": 0.0,
    },
    "rusher": {
        "talk": 0.55,
        "acw": 0.4,
        "hold": 0.05,
        "rona": 0.03,
        "resolve": 0.5,
        "hangup": 0.3,
        "qa": 66.0,
        "short": 0.12,
    },
    "novice": {
        "talk": 1.25,
        "acw": 1.4,
        "hold": 0.35,
        "rona": 0.05,
        "resolve": 0.65,
        "hangup": 0.08,
        "qa": 76.0,
        "short": 0.0,
    },
}


@dataclass(frozen=True)
class Knobs:
    """The randomness of the floor. The physics tests turn most of it off."""

    ring_s: tuple[float, float] = (2.0, 6.0)
    rona_ring_s: float = 15.0
    rona_pause_s: float = 60.0
    transfer_p: float = 0.04
    survey_p: float = 0.25
    qa_p: float = 0.06
    callback_after_abandon_p: float = 0.4
    # "keep your place, we call you back": offered to a voice caller still waiting after
    # callback_offer_after_s, taken by this share; the callback keeps the caller's place among
    # the callbacks (agents take callers on the line first), reaches the customer with
    # callback_reach_p per attempt, retries after callback_retry_s, and fails after
    # callback_attempts (EVENTS.md, Callbacks)
    callback_offer_after_s: float = 60.0
    callback_offer_p: float = 0.2
    callback_reach_p: float = 0.8
    callback_retry_s: float = 600.0
    callback_attempts: int = 3
    return_if_unresolved_p: float = 0.6
    talk_cv: float = 0.6  # lognormal spread; None-like 0 would be constant
    exponential_talk: bool = False  # M/M/N for the physics tests
    hold: bool = True  # put some calls on hold (adds to the handling time)
    use_styles: bool = True
    arrival_curve: Callable[[float], float] | None = None  # default: ingest.sim.center.curve


@dataclass
class Contact:
    call_id: str
    customer: str
    queue: str
    queued: float
    deadline: float  # when the customer's patience runs out
    segment: int = 0
    state: str = "waiting"  # waiting, ringing, talking, done
    agent: Agent | None = None
    first_queue: str = ""
    callback: bool = False  # the customer left the line for a callback
    attempts: int = 0


@dataclass
class Agent:
    spec: AgentSpec
    status: str = "off"  # off, idle, ringing, talk, wrap, away
    idle_since: float = 0.0
    pending: list[tuple[str, Any]] = field(default_factory=list)
    contact: Contact | None = None


class Simulation:
    def __init__(
        self,
        center: Center,
        *,
        start: datetime,
        hours: float,
        seed: int = 1,
        source: str = "sim",
        prefix: str = "",
        knobs: Knobs | None = None,
    ) -> None:
        self.center, self.start, self.horizon = center, start, hours * 3600
        self.rng = random.Random(seed)
        # callbacks draw from their own stream: turning them on or off leaves the arrivals,
        # patience and talk of the same seed as they were
        self.callback_rng = random.Random(seed * 7919 + 1)
        self.source, self.prefix = source, prefix or f"s{seed}-"
        self.k = knobs or Knobs()
        self.tz = ZoneInfo(center.timezone)
        self.t = 0.0
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self._ids = 0
        self._calls = 0
        self._customers = 0
        self.out: list[dict[str, Any]] = []
        self.waiting: dict[str, list[tuple[float, int, Contact]]] = {
            q.name: [] for q in center.queues
        }
        self.agents = [Agent(a) for a in center.agents]
        self.recent_customers: list[str] = []
        for q in center.queues:
            self._next_arrival(q)
        for a in self.agents:
            self._plan_shift(a)

    # --- the clock ------------------------------------------------------------------------

    def at(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (self.t + delay, self._seq, fn, args))

    def advance(self, until_s: float) -> list[dict[str, Any]]:
        """Run every event up to `until_s` simulated seconds; return the contract events."""
        while self._heap and self._heap[0][0] <= until_s:
            t, _, fn, args = heapq.heappop(self._heap)
            self.t = t
            fn(*args)
        self.t = max(self.t, until_s)
        out, self.out = self.out, []
        return out

    def run(self, *, drain_h: float = 2.0) -> Iterator[dict[str, Any]]:
        """The whole day (and a drain after it: no new arrivals), as one stream."""
        step = 3600.0
        until = 0.0
        end = self.horizon + drain_h * 3600
        while until < end:
            until = min(until + step, end)
            yield from self.advance(until)

    def sim_time(self, datetime_: datetime) -> float:
        return (datetime_ - self.start).total_seconds()

    def local_hour(self, t: float) -> float:
        local = (self.start + timedelta(seconds=t)).astimezone(self.tz)
        return local.hour + local.minute / 60 + local.second / 3600

    def emit(self, kind: str, **fields: Any) -> None:
        self._ids += 1
        ts = self.start + timedelta(seconds=round(self.t, 3))
        event = {
            "id": f"{self.prefix}{self._ids}",
            "source": self.source,
            "ts": ts.isoformat(timespec="milliseconds"),
            "type": kind,
        }
        event.update((k, v) for k, v in fields.items() if v is not None)
        self.out.append(event)

    # --- arrivals ---------------------------------------------------------------------------

    def _next_arrival(self, q: QueueSpec) -> None:
        peak = q.peak_per_hour / 3600
        if peak <= 0:
            return
        shape = self.k.arrival_curve or curve
        t = self.t
        while True:  # thinning: candidates at the peak rate, kept by the curve
            t += self.rng.expovariate(peak)
            if t > self.horizon:
                return
            if self.rng.random() < shape(self.local_hour(t)):
                break
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, self._arrive, (q, None)))

    def _arrive(self, q: QueueSpec, customer: str | None) -> None:
        if customer is None:
            self._next_arrival(q)
            if self.recent_customers and self.rng.random() < 0.05:
                customer = self.rng.choice(self.recent_customers)  # about something else
            else:
                self._customers += 1
                customer = f"{self.prefix}k{self._customers}"
                self.recent_customers = [*self.recent_customers[-500:], customer]
        self._calls += 1
        c = Contact(
            f"{self.prefix}call{self._calls}",
            customer,
            q.name,
            self.t,
            self.t + self._patience(q),
            first_queue=q.name,
        )
        self._enqueue(c, q)

    def _patience(self, q: QueueSpec) -> float:
        return self.rng.expovariate(1 / q.patience_s) if math.isfinite(q.patience_s) else math.inf

    def _enqueue(self, c: Contact, q: QueueSpec) -> None:
        c.queue, c.queued, c.state = q.name, self.t, "waiting"
        self.emit(
            "call.queued",
            call_id=c.call_id,
            queue=q.name,
            customer=c.customer,
            channel=q.channel,
            priority=q.priority,
        )
        bisect.insort(self.waiting[q.name], (c.queued, id(c), c))
        if math.isfinite(c.deadline):
            self.at(max(0.0, c.deadline - self.t), self._patience_out, c, c.segment)
        if q.overflow_to and q.overflow_after_s is not None:
            self.at(q.overflow_after_s, self._overflow, c, c.segment)
        if self.k.callback_offer_p > 0 and q.channel == "voice":
            self.at(self.k.callback_offer_after_s, self._offer_callback, c, c.segment)
        self._offer(c)

    # --- callbacks ----------------------------------------------------------------------------

    def _offer_callback(self, c: Contact, segment: int) -> None:
        if c.segment != segment or c.state != "waiting" or c.callback:
            return
        if self.callback_rng.random() >= self.k.callback_offer_p:
            return
        # the customer hangs up and keeps their place: the lane entry stays where it is
        c.callback, c.deadline = True, math.inf
        self.emit("callback.requested", call_id=c.call_id, queue=c.queue)

    def _dial(self, a: Agent, c: Contact, segment: int) -> bool:
        """An agent took a callback: call the customer. True when they answer."""
        c.attempts += 1
        self.emit("callback.attempted", call_id=c.call_id, queue=c.queue, agent=a.spec.id)
        if self.callback_rng.random() < self.k.callback_reach_p:
            self.emit("callback.connected", call_id=c.call_id, queue=c.queue, agent=a.spec.id)
            return True
        c.agent, a.contact = None, None
        a.status, a.idle_since = "idle", self.t
        if c.attempts >= self.k.callback_attempts:
            c.state = "done"
            self.emit("callback.failed", call_id=c.call_id, queue=c.queue, reason="no_answer")
        else:
            c.state = "retry"
            self.at(self.k.callback_retry_s, self._retry_callback, c, segment)
        self._after_free(a)
        return False

    def _retry_callback(self, c: Contact, segment: int) -> None:
        if c.segment != segment or c.state != "retry":
            return
        c.state = "waiting"
        bisect.insort(self.waiting[c.queue], (c.queued, id(c), c))
        self._offer(c)

    def _unqueue(self, c: Contact) -> None:
        lane = self.waiting[c.queue]
        i = bisect.bisect_left(lane, (c.queued, id(c), c))
        if i < len(lane) and lane[i][2] is c:
            lane.pop(i)

    def _patience_out(self, c: Contact, segment: int) -> None:
        if c.segment != segment or c.state not in ("waiting", "ringing") or c.callback:
            return
        if c.state == "ringing" and c.agent is not None:
            agent, c.agent = c.agent, None
            agent.status, agent.contact = "idle", None
            agent.idle_since = self.t
            self._after_free(agent)
        else:
            self._unqueue(c)
        c.state = "done"
        self.emit("call.abandoned", call_id=c.call_id, queue=c.queue)
        if self.rng.random() < self.k.callback_after_abandon_p:
            self._return_later(c, self.rng.uniform(120, 1200))

    def _overflow(self, c: Contact, segment: int) -> None:
        if c.segment != segment or c.state != "waiting" or c.callback:
            return
        q = self.center.queue(c.queue)
        assert q.overflow_to is not None
        self._unqueue(c)
        self.emit(
            "call.overflowed",
            call_id=c.call_id,
            queue=c.queue,
            reason="timeout",
            to_queue=q.overflow_to,
        )
        c.segment += 1
        self._enqueue(c, self.center.queue(q.overflow_to))

    def _return_later(self, c: Contact, delay: float) -> None:
        # a customer calling back after hours calls another day (outside this simulation)
        shape = self.k.arrival_curve or curve
        if self.t + delay > self.horizon or shape(self.local_hour(self.t + delay)) <= 0:
            return
        q = self.center.queue(c.first_queue or c.queue)
        self.at(delay, self._arrive, q, c.customer)

    # --- routing ----------------------------------------------------------------------------

    def _offer(self, c: Contact) -> None:
        """A contact is waiting: the longest-idle agent with the skill takes it."""
        idle = [
            a
            for a in self.agents
            if a.status == "idle" and c.queue in a.spec.skills and not a.pending
        ]
        if idle:
            self._ring(min(idle, key=lambda a: (a.idle_since, a.spec.id)), c)

    def _after_free(self, a: Agent) -> None:
        """An agent is free: planned breaks and logouts first, then the most urgent contact of
        their queues (queue priority, then longest waiting)."""
        if a.pending:
            action, arg = a.pending.pop(0)
            (self._go_away if action == "break" else self._log_out)(a, *arg)
            return
        best: tuple[int, bool, float] | None = None
        pick: Contact | None = None
        for name in a.spec.skills:
            lane = self.waiting.get(name)
            if lane:
                # callers on the line before callbacks (as routing profiles usually rank
                # them); a callback keeps its place among the callbacks
                c = next((x for _, _, x in lane if not x.callback), lane[0][2])
                key = (-self.center.queue(name).priority, c.callback, c.queued)
                if best is None or key < best:
                    best, pick = key, c
        if pick is not None:
            self._ring(a, pick)

    def _ring(self, a: Agent, c: Contact) -> None:
        self._unqueue(c)
        c.state, c.agent = "ringing", a
        a.status, a.contact = "ringing", c
        style = STYLE[a.spec.style if self.k.use_styles else "steady"]
        if self.rng.random() < style["rona"] * (1 if self.k.use_styles else 0):
            self.at(self.k.rona_ring_s, self._rona, a, c, c.segment)
        else:
            self.at(self.rng.uniform(*self.k.ring_s), self._answer, a, c, c.segment)

    def _rona(self, a: Agent, c: Contact, segment: int) -> None:
        if c.agent is not a or c.segment != segment or c.state != "ringing":
            return
        self.emit(
            "call.missed",
            call_id=c.call_id,
            queue=c.queue,
            agent=a.spec.id,
            ring_s=self.k.rona_ring_s,
        )
        c.state, c.agent = "waiting", None
        bisect.insort(self.waiting[c.queue], (c.queued, id(c), c))
        a.contact = None
        # like Asterisk's autopause: a minute away, then back
        a.status = "away"
        self.emit("agent.state", agent=a.spec.id, state="away", reason="ring-no-answer")
        self.at(self.k.rona_pause_s, self._back, a)
        self._offer(c)

    def _answer(self, a: Agent, c: Contact, segment: int) -> None:
        if c.agent is not a or c.segment != segment or c.state != "ringing":
            return
        if c.callback and not self._dial(a, c, segment):
            return
        c.state, a.status = "talking", "talk"
        if not c.callback:
            self.emit("call.answered", call_id=c.call_id, queue=c.queue, agent=a.spec.id)
        q = self.center.queue(c.queue)
        style = STYLE[a.spec.style if self.k.use_styles else "steady"]
        mean = q.talk_s * style["talk"]
        if self.k.exponential_talk:
            talk = self.rng.expovariate(1 / mean)
        elif self.rng.random() < style["short"]:
            talk = self.rng.uniform(3, 9)
        else:
            talk = self._lognormal(mean, self.k.talk_cv)
        on_hold = self.k.hold and self.rng.random() < style["hold"]
        hold = self.rng.uniform(20, 120) if on_hold else 0.0
        self.at(talk + hold, self._talk_end, a, c, hold)

    def _lognormal(self, mean: float, cv: float) -> float:
        if cv <= 0:
            return mean
        sigma = math.sqrt(math.log(1 + cv * cv))
        return self.rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)

    def _talk_end(self, a: Agent, c: Contact, hold: float) -> None:
        q = self.center.queue(c.queue)
        style = STYLE[a.spec.style if self.k.use_styles else "steady"]
        others = [x for x in self.center.queues if x.name != q.name and x.channel == q.channel]
        transfer = others and self.rng.random() < self.k.transfer_p
        if transfer:
            to = self.rng.choice(others)
            self.emit(
                "call.transferred",
                call_id=c.call_id,
                queue=q.name,
                agent=a.spec.id,
                to_queue=to.name,
            )
        ended_by = "agent" if transfer or self.rng.random() < style["hangup"] else "customer"
        self.emit(
            "call.ended",
            call_id=c.call_id,
            queue=q.name,
            agent=a.spec.id,
            hold_s=round(hold, 1),
            ended_by=ended_by,
        )
        a.status, a.contact = "wrap", None
        acw = 0.0 if q.acw_s <= 0 else self._lognormal(q.acw_s * style["acw"], 0.5)
        self.at(acw, self._wrap_end, a, c.call_id)
        if transfer:
            c.segment += 1
            c.callback = False  # transferred to a queue: on the line again
            c.deadline = self.t + 2 * self._patience(to)
            self._enqueue(c, to)
            return
        c.state = "done"
        self._outcome(a, c, q, style)

    def _outcome(self, a: Agent, c: Contact, q: QueueSpec, style: dict[str, float]) -> None:
        resolved = self.rng.random() < style["resolve"]
        waited = self.t - c.queued
        if self.rng.random() < self.k.survey_p:
            csat = self.rng.choice((4, 5, 5)) if resolved else self.rng.choice((1, 2, 3, 3))
            if waited > 120 and csat > 1:
                csat -= 1
            nps = min(10, max(0, csat * 2 + self.rng.choice((-1, 0, 0, 1))))
            self.at(
                self.rng.uniform(300, 3600),
                self._emit_later,
                "survey.completed",
                {
                    "call_id": c.call_id,
                    "agent": a.spec.id,
                    "csat": csat,
                    "nps": nps,
                    "resolved": resolved,
                },
            )
        if self.rng.random() < self.k.qa_p:
            score = min(100.0, max(0.0, self.rng.gauss(style["qa"], 7)))
            self.at(
                self.rng.uniform(3600, 3 * 3600),
                self._emit_later,
                "qa.scored",
                {
                    "call_id": c.call_id,
                    "agent": a.spec.id,
                    "score": round(score, 1),
                    "evaluator": "qa1",
                },
            )
        if not resolved and self.rng.random() < self.k.return_if_unresolved_p:
            self._return_later(c, self.rng.expovariate(1 / (2.5 * 3600)))

    def _emit_later(self, kind: str, fields: dict[str, Any]) -> None:
        self.emit(kind, **fields)

    def _wrap_end(self, a: Agent, call_id: str) -> None:
        self.emit("call.wrapped", call_id=call_id, agent=a.spec.id)
        a.status, a.idle_since = "idle", self.t
        self._after_free(a)

    # --- shifts -------------------------------------------------------------------------------

    def _plan_shift(self, a: Agent) -> None:
        spec = a.spec
        day_start = self.start.astimezone(self.tz).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        shift = (day_start + timedelta(hours=spec.shift_start_h) - self.start).total_seconds()
        end = shift + spec.shift_hours * 3600
        if end <= 0:
            return
        self.at(max(0.0, shift), self._log_in, a)
        for b in spec.breaks:
            at = shift + b.start_h * 3600
            if at >= 0:
                self.at(at, self._break_due, a, b.kind, b.minutes)
        self.at(end, self._shift_over, a)

    def _log_in(self, a: Agent) -> None:
        a.status, a.idle_since = "idle", self.t
        self.emit("agent.state", agent=a.spec.id, state="available", queues=list(a.spec.skills))
        self._after_free(a)

    def _break_due(self, a: Agent, kind: str, minutes: float) -> None:
        if a.status == "idle":
            self._go_away(a, kind, minutes)
        elif a.status in ("ringing", "talk", "wrap", "away"):
            a.pending.append(("break", (kind, minutes)))  # after this contact: late for it

    def _go_away(self, a: Agent, kind: str, minutes: float) -> None:
        a.status = "away"
        self.emit("agent.state", agent=a.spec.id, state="away", reason=kind)
        late = a.spec.late_min * self.rng.uniform(0.5, 1.5) if self.k.use_styles else 0
        self.at((minutes + late) * 60, self._back, a)

    def _back(self, a: Agent) -> None:
        if a.status != "away":
            return
        a.status, a.idle_since = "idle", self.t
        self.emit("agent.state", agent=a.spec.id, state="available", queues=list(a.spec.skills))
        self._after_free(a)

    def _shift_over(self, a: Agent) -> None:
        if a.status in ("idle", "away"):
            self._log_out(a)
        elif a.status != "off":
            a.pending.append(("logout", ()))

    def _log_out(self, a: Agent, *_: Any) -> None:
        a.status = "off"
        self.emit("agent.state", agent=a.spec.id, state="logged_out")
