"""Agent timelines of the real Asterisk 22 run, as its load generator recorded them.

The data (a real queue_log and `driver_truth.jsonl`, the generator's record of every call and
supervisor action) is not part of the project: `test_real_asterisk.py` runs only where it lies
beside the clone (`../shared/data/asterisk22-real`), and `python -m tests.sources.real_asterisk`
prints the figures. What an agent *was*, second by second, from the record:

- logged out when a member of no queue (alice and bob are static members of billing);
- on a call from `connect` to its `complete` or `hangup_done` (whatever came first);
- away (with the pause's reason) when paused in every queue they are a member of;
- available otherwise (Asterisk's wrapuptime is not in queue_log: no wrap-up on either side).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NAMES = {
    f"100{i}": n
    for i, n in enumerate(("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"), 1)
}
STATIC = {"billing": ["alice", "bob"]}  # queues.conf `member =>` lines: configuration


def data_dir() -> Path | None:
    here = Path(__file__).resolve()
    for up in here.parents:
        candidate = up.parent / "shared" / "data" / "asterisk22-real"
        if candidate.is_dir():
            return candidate
    return None


@dataclass
class _Agent:
    queues: set[str] = field(default_factory=set)
    paused: dict[str, str] = field(default_factory=dict)
    calls: set[tuple[str, str]] = field(default_factory=set)

    def state(self) -> tuple[str, str | None, str]:
        queues = ",".join(sorted(self.queues))
        if not self.queues:
            return ("on_call" if self.calls else "logged_out"), None, ""
        if self.calls:
            return "on_call", None, queues
        if self.queues <= set(self.paused):
            return "away", list(self.paused.values())[-1].casefold(), queues
        return "available", None, queues


def _ifaces(text: str) -> list[str]:
    m = re.search(r"Local/([\d,]+)@?", text)
    assert m, text
    return [NAMES[n if len(n) == 4 else "10" + n[-2:]] for n in m.group(1).split(",")]


# kinds of the record that say nothing about an agent's state: callers, the generator's own
# bookkeeping (a blind transfer ends the agent's call with `complete` or `hangup_done`)
NO_STATE = frozenset(
    {
        "join",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "originate",
        "patience_out",
        "hangup",
        "blindtransfer",
        "blindtransfer_resp",
        "arrivals_done",
    }
)


def truth(path: Path) -> tuple[float, float, dict[str, list[tuple[float, str, str | None, str]]]]:
    """(start, end, agent -> [(t, state, reason, queues)]) from driver_truth.jsonl."""
    agents = {n: _Agent() for n in NAMES.values()}
    for queue, members in STATIC.items():
        for who in members:
            agents[who].queues.add(queue)
    timeline: dict[str, list[tuple[float, str, str | None, str]]] = {n: [] for n in agents}
    open_calls: dict[str, tuple[str, str]] = {}
    start = end = 0.0

    def mark(t: float, who: str) -> None:
        st = agents[who].state()
        if not timeline[who] or timeline[who][-1][1:] != st:
            timeline[who].append((t, *st))

    for line in path.read_text().splitlines():
        d = json.loads(line)
        t, kind = float(d["t"]), d["kind"]
        touched: list[str] = []
        if kind == "start":
            start = t
            touched = list(agents)
        elif kind == "drained":
            end = t
        elif kind == "connect":
            who = d["member"]
            agents[who].calls.add((d["key"], d["queue"]))
            open_calls[d["key"]] = (who, d["queue"])
            touched = [who]
        elif kind in ("complete", "hangup_done"):
            got = open_calls.pop(d["key"], None)
            if got is not None:
                agents[got[0]].calls.discard((d["key"], got[1]))
                touched = [got[0]]
        elif kind == "autopaused":
            agents[d["member"]].paused[d["queue"]] = "Auto-Pause"
            touched = [d["member"]]
        elif kind == "ami_unpause":
            (who,) = _ifaces(d["iface"])
            agents[who].paused.pop(d["queue"], None)
            touched = [who]
        elif kind in ("ami", "manual_ami"):
            # an AMI action: recorded with its fields (`ami`, and Asterisk's answer) or as one
            # line of text (`manual_ami`: "QueuePause Interface=... Paused=true Reason=Lunch")
            if kind == "ami":
                action, fields = d["action"], dict(d.get("fields") or {})
                if d.get("resp") != "Success":
                    continue  # refused by Asterisk: nothing happened
            else:
                action = d["action"].split()[0]
                fields = dict(re.findall(r"(\w+)=(\S+)", d["action"]))
            if action != "QueuePause":
                raise ValueError(f"the record's AMI action {action!r} is not known here: {line}")
            touched = _ifaces(fields["Interface"])
            q = fields.get("Queue")
            for who in touched:
                a = agents[who]
                for qq in [q] if q else sorted(a.queues):
                    a.paused.pop(qq, None)
                    if fields["Paused"].lower() == "true":
                        a.paused[qq] = fields.get("Reason") or "paused"
        elif kind in ("cli", "manual_cli"):
            cmd = d["cmd"]
            out = d.get("out", "")
            if kind == "cli" and not re.match(r"(Added|Removed|paused|unpaused)", out):
                continue  # refused by Asterisk (a usage message): nothing happened
            touched = _ifaces(cmd)
            queue = re.search(r"(?:queue|to|from) (billing|tech|sales)\b", cmd)
            q = queue.group(1) if queue else None
            reason = re.search(r"[Rr]eason[= ](\w+)", cmd)
            for who in touched:
                a = agents[who]
                if cmd.startswith("queue add member"):
                    a.queues.add(q or "")
                elif cmd.startswith("queue remove member"):
                    a.queues.discard(q or "")
                    a.paused.pop(q or "", None)
                elif cmd.startswith("queue unpause member"):
                    if q:
                        a.paused.pop(q, None)
                    else:
                        a.paused.clear()
                elif cmd.startswith("queue pause member"):
                    r = reason.group(1) if reason else "paused"
                    for qq in [q] if q else sorted(a.queues):
                        a.paused.pop(qq, None)
                        a.paused[qq] = r
                else:
                    raise ValueError(f"the record's command is not known here: {line}")
        elif kind not in NO_STATE:
            # a kind this reader does not know would silently leave the record's agents as
            # they were, and a check against it pass where it should not
            raise ValueError(f"the record's kind {kind!r} is not known here: {line}")
        for who in touched:
            if start:
                mark(max(t, start), who)
    return start, end, timeline


def unrecorded_calls(queue_log: Path, driver: Path) -> dict[str, list[tuple[float, float]]]:
    """Calls in the queue_log that the record does not have (about 90 of the 427 contacts,
    between minutes 20 and 35, were placed by something else): per agent, when they talked.
    The comparison leaves those seconds out; it cannot say what the record does not know."""
    joined = {json.loads(x)["uid"] for x in driver.read_text().splitlines() if '"join"' in x}
    talking: dict[tuple[str, str], float] = {}
    out: dict[str, list[tuple[float, float]]] = {}
    for line in queue_log.read_text().splitlines():
        p = line.split("|")
        if len(p) < 5 or p[1] in joined:
            continue
        t, verb, agent = float(p[0]), p[4], p[3]
        if verb == "CONNECT":
            talking[(p[1], agent)] = t
        elif verb in ("COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER"):
            began = talking.pop((p[1], agent), None)
            if began is not None:
                out.setdefault(agent, []).append((began, t))
    return out


def _at(timeline: list[tuple[float, Any, Any]], t: float) -> tuple[Any, Any] | None:
    found = None
    for when, *st in timeline:
        if when > t:
            break
        found = tuple(st)
    return found  # type: ignore[return-value]


@dataclass
class Check:
    seconds: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    by_state: Counter[tuple[str, str]] = field(default_factory=Counter)  # (truth, ours) wrong
    left_out: int = 0


def compare(
    start: float,
    end: float,
    expected: dict[str, list[tuple[float, str, str | None, str]]],
    ours: dict[str, list[tuple[float, str, str | None, str]]],
    *,
    unknown: dict[str, list[tuple[float, float]]] | None = None,
    slack: float = 1.0,
) -> Check:
    """Second by second from start to end, per agent: the state (and away reason) in the
    record vs callboard's. queue_log times are whole seconds: samples within `slack` of a
    change in the record are not compared."""
    check = Check()
    for who, line in expected.items():
        changes = [t for t, *_ in line]
        t = math.floor(start) + 1.5
        skip = (unknown or {}).get(who, [])
        while t < end:
            if all(abs(t - c) > slack for c in changes) and not any(
                a - slack <= t <= b + slack for a, b in skip
            ):
                want = _at(line, t)
                got = _at(ours.get(who, []), t) or ("(none)", None)
                check.seconds[who] += 1
                if want != got:
                    check.wrong[who] += 1
                    check.by_state[(str(want[0] if want else None), str(got[0]))] += 1
                    check.examples.setdefault(who, [])
                    if len(check.examples[who]) < 5:
                        check.examples[who].append(
                            f"{datetime.fromtimestamp(t, UTC):%H:%M:%S}: record {want}, ours {got}"
                        )
            elif any(a - slack <= t <= b + slack for a, b in skip):
                check.left_out += 1
            t += 1.0
    return check


def intervals_by_agent(
    rows: list[tuple[Any, ...]],
) -> dict[str, list[tuple[float, str, str | None, str]]]:
    """agent_states rows (agent, started_at, state, reason, queues) -> timelines; reasons
    casefolded; no queues once logged out (callboard keeps the last list: not compared)."""
    out: dict[str, list[tuple[float, str, str | None, str]]] = {}
    for agent, started, state, reason, queues in rows:
        listed = "" if state == "logged_out" or not queues else ",".join(sorted(queues))
        out.setdefault(agent, []).append(
            (started.timestamp(), state, reason.casefold() if reason else None, listed)
        )
    return out


def report(check: Check) -> str:
    lines = []
    for who in sorted(check.seconds):
        n, bad = check.seconds[who], check.wrong[who]
        lines.append(
            f"{who:6} {n:5d} s compared, {bad:4d} s differ ({100 * (n - bad) / n:.2f}% agree)"
        )
        lines.extend(f"         {e}" for e in check.examples.get(who, []))
    total, bad = sum(check.seconds.values()), sum(check.wrong.values())
    lines.append(f"all    {total:5d} s compared, {bad:4d} s differ")
    lines.append(f"left out: {check.left_out} agent-seconds on calls the record does not have")
    if check.by_state:
        lines.append(
            "differences (record -> ours): "
            + ", ".join(f"{a}->{b}: {n}" for (a, b), n in check.by_state.most_common())
        )
    return "\n".join(lines)


if __name__ == "__main__":  # the figures without a database: python -m tests.sources.real_asterisk
    from ingest.contract import extras
    from ingest.derive import Stored, agent_intervals
    from ingest.sources.base import Raw
    from ingest.sources.normalize import Normalizer
    from ingest.sources.queue_log import Members, parse
    from ingest.sources.queue_log_import import items_of

    folder = data_dir()
    assert folder is not None, "no ../shared/data/asterisk22-real beside the clone"
    static = {a: [q for q, m in STATIC.items() if a in m] for a in STATIC["billing"]}
    norm = Normalizer()
    stored = []
    with (folder / "queue_log").open() as f:
        for item in items_of(parse(f), "pbx", Members.with_static(static)):
            if isinstance(item, Raw):
                e = norm.apply(item.event)
                stored.append(
                    Stored(e.source, e.id, e.ts, e.type, e.call_id, e.queue, e.agent, extras(e))
                )
    rows = [
        (who, i.started_at, i.state, i.reason, i.queues)
        for who in NAMES.values()
        for i in agent_intervals(who, [e for e in stored if e.agent == who])
    ]
    start, end, expected = truth(folder / "driver_truth.jsonl")
    unknown = unrecorded_calls(folder / "queue_log", folder / "driver_truth.jsonl")
    print(report(compare(start, end, expected, intervals_by_agent(rows), unknown=unknown)))
