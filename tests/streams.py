"""Seeded streams of contract events shaped like a real floor, with the awkward cases real feeds
have: same-second lifecycle events, transfers between queues keeping the call_id, overflow,
ring-no-answer, short and long abandons, repeat customers, surveys and QA arriving later,
agents on break. Used by the tests until the simulator (issue 4) exists."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def _ts(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def event(kind: str, t: datetime, eid: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": eid,
        "ts": _ts(t),
        "type": kind,
        **{k: v for k, v in fields.items() if v is not None},
    }


def day_of_events(
    *,
    calls: int = 400,
    agents: int = 12,
    queues: int = 3,
    seed: int = 1,
    hours: float = 10,
    start: datetime = START,
    prefix: str = "",
) -> list[dict[str, Any]]:
    """A day of a floor from `start`; `prefix` starts every event and call id (days of one
    stream that must not share ids)."""
    rng = random.Random(seed)
    qs = [f"q{i}" for i in range(queues)]
    ags = [f"a{i:02d}" for i in range(agents)]
    out: list[dict[str, Any]] = []
    n = 0

    def emit(kind: str, t: datetime, **fields: Any) -> None:
        nonlocal n
        n += 1
        out.append(event(kind, t, f"{prefix}e{n}", **fields))

    span = timedelta(hours=hours)
    for a in ags:
        emit("agent.state", start, agent=a, state="available", queues=rng.sample(qs, 2))
        brk = start + span * rng.uniform(0.3, 0.7)
        emit("agent.state", brk, agent=a, state="away", reason=rng.choice(["break", "lunch"]))
        emit("agent.state", brk + timedelta(minutes=15), agent=a, state="available")
        emit("agent.state", start + span, agent=a, state="logged_out")

    customers = [f"cust{i}" for i in range(max(1, calls // 3))]
    for c in range(calls):
        call = f"{prefix}call{c}"
        q = rng.choice(qs)
        t = start + span * rng.random()
        t = t.replace(microsecond=0)
        emit(
            "call.queued",
            t,
            call_id=call,
            queue=q,
            customer=rng.choice(customers),
            channel=rng.choice(["voice", "voice", "voice", "chat"]),
        )
        roll = rng.random()
        wait = timedelta(seconds=rng.choice([0, 0, 3, 8, 15, 20, 21, 45, 90]))
        if roll < 0.12:
            emit("call.abandoned", t + wait, call_id=call, queue=q)
            continue
        if roll < 0.17:
            other = rng.choice([x for x in qs if x != q])
            left = t + wait
            emit("call.overflowed", left, call_id=call, queue=q, reason="timeout", to_queue=other)
            emit("call.queued", left, call_id=call, queue=other)
            q, t, wait = other, left, timedelta(seconds=rng.choice([0, 5, 30]))
        agent = rng.choice(ags)
        if rng.random() < 0.1:
            emit("call.missed", t + wait, call_id=call, queue=q, agent=rng.choice(ags), ring_s=15)
            wait += timedelta(seconds=15)
        answered = t + wait
        emit("call.answered", answered, call_id=call, queue=q, agent=agent)
        talk = timedelta(seconds=rng.choice([4, 60, 180, 240, 600]))
        ended = answered + talk
        if rng.random() < 0.08:
            # transfer to another queue: transfer, end and the new queue entry in one second
            other = rng.choice([x for x in qs if x != q])
            emit("call.transferred", ended, call_id=call, queue=q, agent=agent, to_queue=other)
            emit("call.ended", ended, call_id=call, queue=q, agent=agent, ended_by="agent")
            emit("call.wrapped", ended, call_id=call, agent=agent, acw_s=0)
            emit("call.queued", ended, call_id=call, queue=other)
            agent2 = rng.choice([x for x in ags if x != agent])
            a2 = ended + timedelta(seconds=rng.choice([0, 10]))
            emit("call.answered", a2, call_id=call, queue=other, agent=agent2)
            ended, agent, q = a2 + talk, agent2, other
            emit(
                "call.ended", ended, call_id=call, queue=q, agent=agent, hold_s=rng.choice([0, 20])
            )
        else:
            emit(
                "call.ended",
                ended,
                call_id=call,
                queue=q,
                agent=agent,
                ended_by=rng.choice(["agent", "customer"]),
                talk_s=None if rng.random() < 0.3 else talk.total_seconds(),
            )
        # wrap-up: sometimes in the same second as the end
        emit(
            "call.wrapped",
            ended + timedelta(seconds=rng.choice([0, 0, 10, 30])),
            call_id=call,
            agent=agent,
        )
        if rng.random() < 0.3:
            emit(
                "survey.completed",
                ended + timedelta(minutes=rng.choice([1, 30])),
                call_id=call,
                csat=rng.randint(1, 5),
                nps=rng.randint(0, 10),
                resolved=rng.random() < 0.7,
            )
        if rng.random() < 0.1:
            emit(
                "qa.scored",
                ended + timedelta(hours=1),
                call_id=call,
                agent=agent,
                score=rng.choice([55, 70.5, 90, 100]),
                evaluator="qa1",
            )
    return out


def queue_log_lines(
    *, lines: int, agents: int = 200, queues: int = 10, seed: int = 1
) -> Iterator[str]:
    """An Asterisk queue_log of about `lines` lines (`\\n`-terminated, in time order), made a
    day at a time so that any size streams in bounded memory: members logging in and out,
    pauses with reasons, calls answered (some after a ring-no-answer), abandoned, timed out to
    another queue, blind-transferred."""
    rng = random.Random(seed)
    qs = [f"q{i}" for i in range(queues)]
    ags = [f"SIP/{1000 + i}" for i in range(agents)]
    day = int(START.timestamp())
    written = 0
    n = 0
    while written < lines:
        out: list[tuple[int, int, str]] = []  # (ts, order within the call, line)

        def put(ts: int, k: int, text: str, out: list[tuple[int, int, str]] = out) -> None:
            out.append((ts, k, f"{ts}|{text}\n"))

        for a in ags:
            q = rng.choice(qs)
            put(day, 0, f"MANAGER|{q}|{a}|ADDMEMBER|")
            brk = day + rng.randrange(3600 * 3, 3600 * 7)
            put(brk, 0, f"NONE|{q}|{a}|PAUSE|{rng.choice(['Break', 'Lunch', 'Meeting'])}")
            put(brk + 900, 0, f"NONE|{q}|{a}|UNPAUSE|")
            put(day + 36000, 9, f"MANAGER|{q}|{a}|REMOVEMEMBER|")
        target = min(lines - written, 40_000)
        while len(out) < target:
            n += 1
            call = f"{day}.{n}"
            q = rng.choice(qs)
            t = day + rng.randrange(60, 36000 - 900)
            put(t, 0, f"{call}|{q}|NONE|ENTERQUEUE||+4930{n:07d}|1")
            wait = rng.choice([0, 2, 5, 9, 15, 25, 40, 90])
            roll = rng.random()
            if roll < 0.1:
                put(t + wait, 2, f"{call}|{q}|NONE|ABANDON|1|1|{wait}")
                continue
            if roll < 0.14:
                other = rng.choice([x for x in qs if x != q])
                put(t + wait, 2, f"{call}|{q}|NONE|EXITWITHTIMEOUT|1|1|{wait}")
                put(t + wait, 3, f"{call}|{other}|NONE|ENTERQUEUE||+4930{n:07d}|1")
                q, t, wait = other, t + wait, rng.choice([0, 5, 30])
            agent = rng.choice(ags)
            if rng.random() < 0.1:
                put(t + wait, 4, f"{call}|{q}|{rng.choice(ags)}|RINGNOANSWER|15000")
                wait += 15
            put(t + wait, 5, f"{call}|{q}|{agent}|CONNECT|{wait}|{call}1|2")
            talk = rng.randrange(20, 600)
            if rng.random() < 0.05:
                ext = rng.randrange(100, 999)
                put(
                    t + wait + talk,
                    6,
                    f"{call}|{q}|{agent}|BLINDTRANSFER|{ext}|default|{wait}|{talk}|1",
                )
            else:
                verb = rng.choice(["COMPLETEAGENT", "COMPLETECALLER"])
                put(t + wait + talk, 6, f"{call}|{q}|{agent}|{verb}|{wait}|{talk}|1")
        out.sort(key=lambda x: (x[0], x[1]))
        for _, _, text in out[: lines - written]:
            yield text
        written += min(len(out), lines - written)
        day += 86400
