"""Derived rows as pure functions of stored events.

Bump DERIVE_VERSION whenever what these functions produce changes: `callboard migrate` then
rebuilds the derived tables.

A contact's segments and feedback are a function of *all* its events; an agent's state
intervals of all its state-moving events. Events are applied in (ts, lifecycle rank, source,
id) order, never delivery order, so out-of-order, late and duplicated delivery give the same
rows as ordered delivery, and `callboard rebuild` gives the same rows as incremental ingest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any, NamedTuple

from ingest.contract import LIFECYCLE_RANK

DERIVE_VERSION = 3  # 3: callbacks (outcomes callback / failed, attempts)


class Stored(NamedTuple):
    """An event as read back from the `events` table."""

    source: str
    id: str
    ts: datetime
    type: str
    call_id: str | None
    queue: str | None
    agent: str | None
    data: dict[str, Any]


def lifecycle_key(e: Stored) -> tuple[datetime, int, str, str]:
    return (e.ts, LIFECYCLE_RANK[e.type], e.source, e.id)


def _seconds(later: datetime, earlier: datetime | None) -> float | None:
    if earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


# --- contacts ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Segment:
    call_id: str
    segment: int
    queue: str
    is_first: bool = False
    is_last: bool = False
    channel: str | None = None
    customer: str | None = None
    priority: int | None = None
    queued_at: datetime | None = None
    outcome: str | None = None
    left_at: datetime | None = None
    wait_s: float | None = None
    overflow_reason: str | None = None
    overflow_to: str | None = None
    missed: int = 0
    attempts: int = 0  # a callback's calls to the customer
    agent: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    talk_s: float | None = None
    hold_s: float | None = None
    wrapped_at: datetime | None = None
    acw_s: float | None = None
    handled_at: datetime | None = None
    transferred: bool = False
    transfer_to_queue: str | None = None
    transfer_to_agent: str | None = None
    transfer_to_external: str | None = None
    # The segment that carries the contact's queue outcome (counted once at center level):
    # the first that did not overflow, and the customer's whole wait up to its end.
    contact_outcome: bool = False
    contact_wait_s: float | None = None
    notes: list[str] | None = None

    @property
    def stage(self) -> str:
        """waiting | answered | ended | wrapped | abandoned | overflowed | callback (left the
        line for a callback) | failed (a callback that never reached the customer)"""
        if self.outcome is None:
            return "waiting"
        if self.outcome != "answered":
            return self.outcome
        if self.ended_at is None:
            return "answered"
        return "ended" if self.wrapped_at is None else "wrapped"

    def note(self, text: str) -> None:
        self.notes = [*(self.notes or []), text]

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in SEGMENT_COLUMNS)


SEGMENT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Segment))


@dataclass(slots=True)
class FeedbackRow:
    source: str
    id: str
    call_id: str
    ts: datetime
    kind: str
    queue: str | None = None
    agent: str | None = None
    csat: int | None = None
    nps: int | None = None
    resolved: bool | None = None
    score: float | None = None
    evaluator: str | None = None
    form: str | None = None

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in FEEDBACK_COLUMNS)


FEEDBACK_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(FeedbackRow))


@dataclass
class _Contact:
    call_id: str
    segments: list[Segment] = field(default_factory=list)

    def open(self, queue: str, note: str | None = None) -> Segment:
        seg = Segment(call_id=self.call_id, segment=len(self.segments), queue=queue)
        if note:
            seg.note(note)
        self.segments.append(seg)
        return seg

    def find(self, queue: str | None, stages: set[str], agent: str | None = None) -> Segment | None:
        for seg in reversed(self.segments):
            if queue is not None and seg.queue != queue:
                continue
            if seg.stage not in stages:
                continue
            if agent is not None and seg.agent not in (None, agent):
                continue
            return seg
        return None

    def has_queue(self, queue: str) -> bool:
        return any(s.queue == queue for s in self.segments)


def contact_rows(call_id: str, events: Iterable[Stored]) -> tuple[list[Segment], list[FeedbackRow]]:
    """The queue segments and feedback rows of one contact, from all its events."""
    contact = _Contact(call_id)
    later: list[Stored] = []
    for e in sorted(events, key=lifecycle_key):
        if e.type in ("survey.completed", "qa.scored"):
            later.append(e)
        elif e.type != "agent.state":
            _apply(contact, e)
    segments = contact.segments
    for seg in segments:
        seg.handled_at = seg.wrapped_at or seg.ended_at
    if segments:
        segments[0].is_first = True
        segments[-1].is_last = True
        _mark_contact_outcome(segments)
    return segments, [_feedback(e, segments) for e in later]


def _mark_contact_outcome(segments: list[Segment]) -> None:
    """Follow overflows and callbacks from the first queue visit to the one that answered, was
    abandoned, failed or is still waiting (a callback's wait adds to the customer's); a
    transfer after the answer starts segments that do not count again."""
    wait: float | None = 0.0
    for seg in segments:
        wait = None if wait is None or seg.wait_s is None else wait + seg.wait_s
        if seg.outcome not in ("overflowed", "callback") or seg is segments[-1]:
            seg.contact_outcome = True
            seg.contact_wait_s = wait if seg.outcome is not None else None
            return


def _apply(c: _Contact, e: Stored) -> None:
    d, t, q = e.data, e.type, e.queue
    if t.startswith("callback."):
        _apply_callback(c, e)
    elif t == "call.queued":
        assert q is not None
        seg = c.open(q)
        seg.queued_at = e.ts
        seg.channel = d.get("channel", "voice")
        seg.customer = d.get("customer")
        seg.priority = d.get("priority", 0)
    elif t == "call.missed":
        assert q is not None
        seg = c.find(q, {"waiting"}) or c.find(q, _ALL_STAGES) or c.open(q, "missed: no queued")
        seg.missed += 1
    elif t in ("call.answered", "call.abandoned", "call.overflowed"):
        assert q is not None
        found = c.find(q, {"waiting"})
        if found is not None and _requested(c, found):
            found = None  # the line's end after a callback request (the caller hung up)
        if found is None and c.has_queue(q):
            # The queue visit already has an outcome: a conflicting second one. It stays in
            # `events`; the segment says why it was not counted.
            c.segments[-1].note(f"{t} at {e.ts.isoformat()} ignored: segment already left queue")
            return
        seg = found or c.open(q, f"{t}: no queued (started before the data)")
        seg.outcome = t.removeprefix("call.")
        seg.left_at = e.ts
        wait = d.get("wait_s")
        seg.wait_s = wait if wait is not None else _seconds(e.ts, seg.queued_at)
        if t == "call.answered":
            seg.agent, seg.answered_at = e.agent, e.ts
        elif t == "call.overflowed":
            seg.overflow_reason, seg.overflow_to = d.get("reason", "other"), d.get("to_queue")
    elif t == "call.transferred":
        assert q is not None
        seg = _handling_segment(c, e)
        seg.transferred = True
        seg.transfer_to_queue = d.get("to_queue")
        seg.transfer_to_agent = d.get("to_agent")
        seg.transfer_to_external = d.get("to_external")
    elif t == "call.ended":
        seg = _handling_segment(c, e)
        seg.ended_at = e.ts
        seg.ended_by = d.get("ended_by")
        seg.hold_s = d.get("hold_s")
        talk = d.get("talk_s")
        if talk is None and seg.answered_at is not None:
            talk = max(0.0, (e.ts - seg.answered_at).total_seconds() - (seg.hold_s or 0.0))
        seg.talk_s = talk
    elif t == "call.wrapped":
        found = (
            c.find(None, {"ended"}, e.agent)
            or c.find(None, {"answered", "ended", "wrapped"}, e.agent)
            or (c.segments[-1] if c.segments else None)
        )
        if found is None:
            return  # nothing to wrap: kept in `events`, shows as no data
        found.wrapped_at = e.ts
        acw = d.get("acw_s")
        found.acw_s = acw if acw is not None else _seconds(e.ts, found.ended_at)


_ALL_STAGES = {
    "waiting",
    "answered",
    "ended",
    "wrapped",
    "abandoned",
    "overflowed",
    "callback",
    "failed",
}


def _requested(c: _Contact, seg: Segment) -> bool:
    """A callback opened by callback.requested: only callback.* events end it."""
    return seg.channel == "callback" and any(s.outcome == "callback" for s in c.segments)


def _callback(c: _Contact, queue: str) -> Segment | None:
    """The contact's latest callback in the queue."""
    for seg in reversed(c.segments):
        if seg.queue == queue and seg.channel == "callback":
            return seg
    return None


def _apply_callback(c: _Contact, e: Stored) -> None:
    """callback.*: the request ends the wait on the line (outcome `callback`, not an abandon)
    and opens the callback, a segment of channel `callback` waiting in the same queue from the
    request; connected answers it, failed ends it unanswered (EVENTS.md, Callbacks)."""
    d, t, q = e.data, e.type, e.queue
    assert q is not None
    if t == "callback.requested":
        if _callback(c, q) is not None:
            c.segments[-1].note(f"{t} at {e.ts.isoformat()} ignored: a callback already exists")
            return
        # the caller's wait on the line: in this queue, else in any (a platform may queue the
        # callback in a callback queue of its own)
        line = next(
            (s for s in reversed(c.segments) if s.stage == "waiting" and s.channel != "callback"),
            None,
        )
        if line is None:
            line = c.open(q, f"{t}: no queued (started before the data)")
        line.outcome, line.left_at = "callback", e.ts
        wait = d.get("wait_s")
        line.wait_s = wait if wait is not None else _seconds(e.ts, line.queued_at)
        new = c.open(q)
        new.channel, new.queued_at = "callback", e.ts
        new.customer = d.get("customer") or line.customer
        new.priority = line.priority if line.priority is not None else 0
        return
    cb = _callback(c, q)
    if cb is None:
        cb = c.open(q, f"{t}: no callback.requested (started before the data)")
        cb.channel = "callback"
    if t == "callback.scheduled":
        cb.note(f"scheduled for {d.get('at')}")
    elif t == "callback.attempted":
        cb.attempts += 1
    elif cb.outcome is not None:
        cb.note(f"{t} at {e.ts.isoformat()} ignored: the callback already ended")
    else:
        cb.outcome = "answered" if t == "callback.connected" else "failed"
        cb.left_at = e.ts
        cb.wait_s = _seconds(e.ts, cb.queued_at)
        if t == "callback.connected":
            cb.agent, cb.answered_at = e.agent, e.ts


def _handling_segment(c: _Contact, e: Stored) -> Segment:
    """The answered segment a transfer or an end belongs to."""
    assert e.queue is not None
    seg = c.find(e.queue, {"answered"}, e.agent)
    if seg is not None:
        return seg
    seg = c.find(e.queue, {"waiting"})
    if seg is not None:
        # It was evidently answered, but the answer event is missing (or not here yet).
        seg.outcome, seg.agent = "answered", e.agent
        seg.note(f"{e.type} without call.answered")
        return seg
    seg = c.find(e.queue, {"ended", "wrapped"}, e.agent)
    if seg is not None and e.type == "call.transferred":
        return seg
    # Handling seen, queue visit not: the data starts mid-call. The outcome is known
    # (answered) but not when, so it counts as handled, not as answered in any window.
    seg = c.open(e.queue, f"{e.type}: answered before the data")
    seg.outcome, seg.agent = "answered", e.agent
    return seg


def _feedback(e: Stored, segments: Sequence[Segment]) -> FeedbackRow:
    answered = [s for s in segments if s.outcome == "answered"]
    if e.agent is not None:
        answered = [s for s in answered if s.agent == e.agent] or answered
    last = answered[-1] if answered else None
    d = e.data
    return FeedbackRow(
        source=e.source,
        id=e.id,
        call_id=e.call_id or "",
        ts=e.ts,
        kind="survey" if e.type == "survey.completed" else "qa",
        queue=last.queue if last else None,
        agent=e.agent or (last.agent if last else None),
        csat=d.get("csat"),
        nps=d.get("nps"),
        resolved=d.get("resolved"),
        score=d.get("score"),
        evaluator=d.get("evaluator"),
        form=d.get("form"),
    )


# --- agent states ------------------------------------------------------------------------------

# An agent's state is two things the sources report separately: their *presence* (logged out,
# available, away for a reason), set by `agent.state`, and their *work*, set by call events: on a
# call from `call.answered` to `call.ended`, in wrap-up from `call.ended` to `call.wrapped`.
# Talking wins over presence: a pause or a logout said during a call takes effect when the call
# ends (a PBX pauses the member for the *next* call; it does not hang up this one), and an
# unpause during a call does not make a talking agent available. An explicit presence ends
# wrap-up (EVENTS.md: an explicit agent.state wins from its ts on); an explicit `on_call` or
# `wrap_up` state (platforms that report them) holds until the agent's next event.
CALL_STATE = {
    "call.answered": "on_call",
    "callback.connected": "on_call",  # an agent reached the customer of a callback
    "call.ended": "wrap_up",
    "call.wrapped": "available",
}
STATE_EVENT_TYPES: tuple[str, ...] = ("agent.state", *CALL_STATE)
PRESENCE_STATES = frozenset({"logged_out", "available", "away"})
# An answered call whose end never arrives (data lost) stops counting as talk this long after
# its answer, at the agent's next event.
OPEN_CALL_HORIZON = timedelta(hours=4)


class Interval(NamedTuple):
    agent: str
    started_at: datetime
    ended_at: datetime | None
    state: str
    reason: str | None
    queues: list[str] | None


AGENT_STATE_COLUMNS: tuple[str, ...] = Interval._fields


@dataclass(slots=True)
class _Agent:
    presence: str | None = None
    reason: str | None = None
    queues: list[str] | None = None
    calls: dict[str, datetime] = field(default_factory=dict)  # open: call_id -> answered at
    wrapping: set[str] = field(default_factory=set)  # ended, not wrapped
    explicit: str | None = None  # an explicit on_call / wrap_up, until the next event

    def apply(self, e: Stored) -> None:
        self.explicit = None
        for call_id, answered in list(self.calls.items()):
            if e.ts - answered > OPEN_CALL_HORIZON:
                del self.calls[call_id]
        call = e.call_id or ""
        if e.type == "agent.state":
            state = e.data["state"]
            if e.data.get("queues") is not None:
                self.queues = list(e.data["queues"])
            if state in PRESENCE_STATES:
                self.presence = state
                self.reason = e.data.get("reason") if state == "away" else None
                self.wrapping.clear()
            else:
                self.explicit = state
        elif e.type in ("call.answered", "callback.connected"):
            self.calls[call] = e.ts
            self.wrapping.clear()
            # answering shows they were at work: whatever they say during the call applies after
            self.presence, self.reason = "available", None
        elif e.type == "call.ended":
            self.calls.pop(call, None)
            self.wrapping.add(call)
        else:  # call.wrapped
            self.calls.pop(call, None)
            self.wrapping.discard(call)

    def state(self) -> tuple[str, str | None, list[str] | None]:
        if self.explicit is not None:
            return self.explicit, None, self.queues
        if self.calls:
            return "on_call", None, self.queues
        if self.wrapping:
            return "wrap_up", None, self.queues
        if self.presence is None:
            return "available", None, self.queues  # seen only through calls
        return self.presence, self.reason, self.queues


def agent_intervals(
    agent: str, events: Iterable[Stored], before: Interval | None = None
) -> list[Interval]:
    """The agent's state intervals from its events; `before` is the interval in force before
    the first event (when recomputing a tail: it should be a presence interval, where no call is
    open, so that nothing hidden is lost). The first returned interval starts at `before`'s
    start when the state did not change (so a tail recompute equals a full one)."""
    machine = _Agent()
    current: tuple[str, str | None, list[str] | None] | None = None
    started: datetime | None = None
    if before is not None:
        current, started = (before.state, before.reason, before.queues), before.started_at
        machine.queues = before.queues
        if before.state in PRESENCE_STATES:
            machine.presence, machine.reason = before.state, before.reason
        elif before.state == "on_call":
            machine.calls["(before)"] = before.started_at
        else:
            machine.wrapping.add("(before)")
    out: list[Interval] = []
    ordered = sorted((e for e in events if e.type in STATE_EVENT_TYPES), key=lifecycle_key)
    # Only the state at the end of an instant counts: no zero-length intervals.
    for ts, group in groupby(ordered, key=lambda e: e.ts):
        for e in group:
            machine.apply(e)
        new = machine.state()
        if new == current:
            continue
        if current is not None and started is not None:
            out.append(Interval(agent, started, ts, *current))
        current, started = new, ts
    if current is not None and started is not None:
        out.append(Interval(agent, started, None, *current))
    return out
