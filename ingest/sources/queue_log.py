"""Asterisk queue_log -> contract events (reference: shared queue_log.md; mapping: EVENTS.md).

Three layouts, told apart by their content:
- the file Asterisk writes: `epoch|callid|queue|agent|VERB|data...`;
- a CSV export of the realtime table: `time,callid,queuename,agent,event,data1..data5` (the 5th
  data field keeps the rest of the line, pipes included), times in local time (`--tz`);
- PBXware's table export: `uid,date_time,callid,queue_name,type,event,param1..3,entpos,expos,
  htime,ttime,time` (see the data's SOURCE.md for what each column holds per event).

Event ids come from the line's content (time, callid, queue, agent, verb, data), so importing a
file again, or a later export that overlaps it, stores nothing twice. A line can make several
events (`:0`, `:1`, ...). queue_log has no wrap-up: after a call ends the agent is made
available again explicitly, unless the line stream has them paused."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ingest.contract import TS_MAX, TS_MIN

NO_EVENT = {
    "QUEUESTART",
    "CONFIGRELOAD",
    "DID",
    "RINGCANCELED",
    "AGENTDUMP",
    "SYSCOMPAT",
    "PENALTY",
    "RINGINUSE",
    "INFO",
    "CALLERONHOLD",
    "CALLEROFFHOLD",
}


@dataclass(frozen=True)
class Line:
    index: int  # line number in the file, from 0
    ts: datetime
    callid: str
    queue: str
    agent: str
    verb: str
    data: tuple[str, ...]
    raw: str

    @property
    def key(self) -> str:
        body = "|".join(
            (
                str(int(self.ts.timestamp())),
                self.callid,
                self.queue,
                self.agent,
                self.verb,
                *self.data,
            )
        ).rstrip("|")
        return hashlib.sha256(body.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Problem:
    index: int
    message: str
    raw: str | None = None


def sniff(first: str) -> str:
    head = first.strip().lower()
    if head.startswith("uid,") and "param1" in head and "htime" in head:
        return "pbxware"
    if "data1" in head and "event" in head:
        return "realtime"
    return "file"


def parse(text: Iterable[str], *, tz: str = "UTC") -> Iterator[Line | Problem]:
    """Lines of any of the three layouts; a line that cannot be read is a Problem for that
    line only."""
    it = iter(text)
    first = next(it, None)
    if first is None:
        return
    layout = sniff(first)
    if layout == "file":
        yield from _file_lines([first], 0)
        yield from _file_lines(it, 1)
    else:
        yield from _csv_lines(layout, first, it, ZoneInfo(tz))


_EPOCH = re.compile(r"[0-9]{1,12}")  # ASCII digits only: `²` passes isdigit() but not int()


def _epoch(text: str) -> datetime | None:
    """A queue_log time; None when it is not a time between 1970 and 2200."""
    text = text.strip()
    if not _EPOCH.fullmatch(text):
        return None
    ts = datetime.fromtimestamp(int(text), UTC)
    return ts if ts < TS_MAX else None


def _file_lines(lines: Iterable[str], start: int) -> Iterator[Line | Problem]:
    for index, raw in enumerate(lines, start):
        raw = raw.rstrip("\r\n")
        if not raw.strip():
            continue
        parts = raw.split("|")
        if len(parts) < 5:
            yield Problem(
                index,
                f"line {index + 1}: not a queue_log line (epoch|callid|queue|agent|event|...)",
                raw,
            )
            continue
        ts = _epoch(parts[0])
        if ts is None:
            yield Problem(
                index,
                f"line {index + 1}: the time {parts[0][:40]!r} is not epoch seconds"
                " between 1970 and 2200",
                raw,
            )
            continue
        data = tuple(parts[5:])
        yield Line(index, ts, parts[1], parts[2], parts[3], parts[4].strip().upper(), data, raw)


def _csv_lines(
    layout: str, header: str, rest: Iterator[str], tz: ZoneInfo
) -> Iterator[Line | Problem]:
    reader = csv.reader(io.StringIO(header + "".join(rest)))
    names = [h.strip() for h in next(reader, [])]
    for index, values in enumerate(reader, 1):
        raw = ",".join(values)
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            yield Problem(
                index,
                f"row {index + 1}: {len(values)} columns where the header has {len(names)}",
                raw,
            )
            continue
        row = dict(zip(names, values, strict=True))
        try:
            if layout == "realtime":
                ts = _local(row["time"], tz)
                data = tuple(row.get(f"data{i}") or "" for i in range(1, 6))
                if data[4] and "|" in data[4]:  # the 5th field keeps the rest of the line
                    data = (*data[:4], *data[4].split("|"))
                yield Line(
                    index,
                    ts,
                    row["callid"],
                    row["queuename"],
                    row["agent"],
                    row["event"].strip().upper(),
                    _trim(data),
                    raw,
                )
            else:
                yield _pbxware(index, row, raw)
        except KeyError as exc:
            yield Problem(index, f"row {index + 1}: no column {exc}", raw)
        except (ValueError, OverflowError, OSError) as exc:
            yield Problem(index, f"row {index + 1}: {exc}", raw)


def _trim(data: tuple[str, ...]) -> tuple[str, ...]:
    out = list(data)
    while out and out[-1] == "":
        out.pop()
    return tuple(out)


def _local(text: str, tz: ZoneInfo) -> datetime:
    t = datetime.fromisoformat(text.strip())
    t = (t if t.tzinfo else t.replace(tzinfo=tz)).astimezone(UTC)
    if not TS_MIN <= t < TS_MAX:
        raise ValueError(f"time {text.strip()!r} is out of range (1970 to 2200)")
    return t


def _pbxware(index: int, row: dict[str, str], raw: str) -> Line:
    """PBXware's columns, put back into the positions of Asterisk's data fields."""
    verb = row["event"].strip().upper()
    p1, p2, p3 = row.get("param1") or "", row.get("param2") or "", row.get("param3") or ""
    entpos, expos = row.get("entpos") or "", row.get("expos") or ""
    htime, ttime = row.get("htime") or "", row.get("ttime") or ""
    data: tuple[str, ...]
    if verb == "ENTERQUEUE":
        data = ("", p1, entpos)
    elif verb == "CONNECT":
        data = (htime, p2, p3)
    elif verb in ("COMPLETEAGENT", "COMPLETECALLER"):
        data = (htime, ttime, entpos)
    elif verb == "RINGNOANSWER":
        data = (htime,)  # milliseconds, as in Asterisk's data1
    elif verb in ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY"):
        data = (expos, entpos, htime)
    elif verb == "BLINDTRANSFER":
        data = (p2, p3, htime, ttime, entpos)
    elif verb == "ATTENDEDTRANSFER":
        data = (p1, p2, htime, ttime, entpos)
    else:
        data = _trim((p1, p2, p3))
    ts = _epoch(row["date_time"])
    if ts is None:
        raise ValueError(f"date_time {row['date_time'][:40]!r} is not epoch seconds")
    return Line(index, ts, row["callid"], row["queue_name"], row["type"], verb, data, raw)


def _num(value: str | None) -> float | None:
    try:
        v = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return v if v is not None and v >= 0 else None


ALL = "*"  # PAUSEALL: paused in every queue


@dataclass
class Members:
    """What the line stream said so far about each agent: the queues they are a member of, and
    where they are paused with which reason. Stored with the follower's position, so a restart
    goes on from the same knowledge. `static` members (queues.conf `member =>` lines, which
    never appear in queue_log) come from configuration: agent -> queues."""

    queues: dict[str, set[str]] = field(default_factory=dict)  # absent: not known
    paused: dict[str, dict[str, str]] = field(default_factory=dict)  # agent -> queue -> reason
    static: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def with_static(cls, static: dict[str, list[str]] | None) -> Members:
        m = cls(static={a: set(qs) for a, qs in (static or {}).items()})
        m.queues = {a: set(qs) for a, qs in m.static.items()}
        return m

    def to_json(self) -> dict[str, Any]:
        return {
            "queues": {a: sorted(q) for a, q in self.queues.items()},
            "paused": self.paused,
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.queues = {a: set(q) for a, q in saved.get("queues", {}).items()}
        self.paused = {a: dict(p) for a, p in saved.get("paused", {}).items()}

    def presence(self, agent: str) -> dict[str, Any]:
        """The agent's presence as the fields of an agent.state event."""
        queues = self.queues.get(agent)
        if queues is not None and not queues:
            return {"state": "logged_out", "queues": []}
        paused = self.paused.get(agent, {})
        listed = sorted(queues) if queues else None
        covered = ALL in paused or (paused and (not queues or queues <= set(paused)))
        if covered:
            reason = next(reversed(paused.values()))
            return {"state": "away", "reason": reason, "queues": listed}
        return {"state": "available", "queues": listed}

    def join(self, agent: str, queue: str | None) -> None:
        joined = self.queues.setdefault(agent, set())
        if queue:
            joined.add(queue)

    def leave(self, agent: str, queue: str | None) -> None:
        joined = self.queues.setdefault(agent, set())
        paused = self.paused.setdefault(agent, {})
        if queue:
            joined.discard(queue)
            paused.pop(queue, None)
        else:
            joined.clear()
        if not joined:
            paused.clear()

    def pause(self, agent: str, queue: str | None, reason: str) -> None:
        paused = self.paused.setdefault(agent, {})
        paused.pop(queue or ALL, None)  # the latest reason last
        paused[queue or ALL] = reason

    def unpause(self, agent: str, queue: str | None) -> None:
        paused = self.paused.setdefault(agent, {})
        if not queue:
            paused.clear()
            return
        if ALL in paused:  # paused everywhere, now unpaused here: still paused elsewhere
            reason = paused.pop(ALL)
            for q in self.queues.get(agent, set()) - {queue}:
                paused.setdefault(q, reason)
        paused.pop(queue, None)


def scoped_call_id(source: str, callid: str) -> str:
    """A PBX's call id, scoped by the source: two PBXes' uniqueids can collide."""
    return f"{source}:{callid}"


def events(line: Line, source: str, members: Members) -> list[dict[str, Any]]:
    """The contract events of one line (none for verbs that only carry information)."""
    base = {"source": source, "ts": line.ts.isoformat()}
    out: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        out.append(
            {
                "id": f"{line.key}:{len(out)}",
                **base,
                "type": kind,
                **{k: v for k, v in fields.items() if v is not None},
            }
        )

    def presence(who: str) -> None:
        add("agent.state", agent=who, **members.presence(who))

    d = list(line.data) + [""] * 6
    q, agent = line.queue, line.agent
    call = scoped_call_id(source, line.callid)
    queue = q if q not in ("", "NONE") else None
    v = line.verb
    if v == "ENTERQUEUE":
        add("call.queued", call_id=call, queue=q, customer=d[1] or None)
    elif v == "CONNECT":
        add("call.answered", call_id=call, queue=q, agent=agent, wait_s=_num(d[0]))
    elif v in ("COMPLETEAGENT", "COMPLETECALLER"):
        add(
            "call.ended",
            call_id=call,
            queue=q,
            agent=agent,
            talk_s=_num(d[1]),
            ended_by="agent" if v == "COMPLETEAGENT" else "customer",
        )
        presence(agent)  # no wrap-up in queue_log: back to what they were, at once
    elif v == "ABANDON":
        add("call.abandoned", call_id=call, queue=q, wait_s=_num(d[2]))
    elif v in ("EXITWITHTIMEOUT", "EXITEMPTY"):
        add(
            "call.overflowed",
            call_id=call,
            queue=q,
            wait_s=_num(d[2]),
            reason="timeout" if v == "EXITWITHTIMEOUT" else "empty",
        )
    elif v == "WITHDRAW":  # taken out of the queue through AMI: routing, not the customer
        add("call.overflowed", call_id=call, queue=q, reason="other", wait_s=_num(d[2]))
    elif v == "EXITWITHKEY":
        add("call.overflowed", call_id=call, queue=q, reason="key", wait_s=_num(d[3]))
    elif v == "RINGNOANSWER":
        ring = _num(d[0])
        add(
            "call.missed",
            call_id=call,
            queue=q,
            agent=agent,
            ring_s=None if ring is None else ring / 1000,
        )  # milliseconds
    elif v in ("BLINDTRANSFER", "TRANSFER"):
        target = "@".join(x for x in (d[0], d[1]) if x) or "unknown"
        add("call.transferred", call_id=call, queue=q, agent=agent, to_external=target)
        add("call.ended", call_id=call, queue=q, agent=agent, talk_s=_num(d[3]), ended_by="agent")
        presence(agent)
    elif v == "ATTENDEDTRANSFER":
        if d[0] == "LINK":  # LINK's method data is chan1|chan2: every later field shifts by one
            target, talk = f"{d[1]}|{d[2]}", _num(d[4])
        else:
            target, talk = d[1] or d[0] or "unknown", _num(d[3])
        add("call.transferred", call_id=call, queue=q, agent=agent, to_external=target)
        add("call.ended", call_id=call, queue=q, agent=agent, talk_s=talk, ended_by="agent")
        presence(agent)
    elif v in ("AGENTLOGIN", "AGENTCALLBACKLOGIN", "ADDMEMBER"):
        members.join(agent, queue)
        if v == "ADDMEMBER" and d[0] == "PAUSED" and queue:
            members.pause(agent, queue, "paused")
        presence(agent)
    elif v in ("AGENTLOGOFF", "AGENTCALLBACKLOGOFF", "REMOVEMEMBER"):
        members.leave(agent, queue if v == "REMOVEMEMBER" else None)
        presence(agent)
    elif v in ("PAUSE", "PAUSEALL"):
        members.pause(agent, queue if v == "PAUSE" else None, d[0].strip() or "paused")
        presence(agent)
    elif v in ("UNPAUSE", "UNPAUSEALL"):
        members.unpause(agent, queue if v == "UNPAUSE" else None)
        presence(agent)
    elif v == "QUEUESTART":  # app_queue loaded: static members are members from now on
        for who in sorted(members.static):
            for sq in members.static[who]:
                members.join(who, sq)
            presence(who)
    return out


def same_second(
    made: list[tuple[Line, list[dict[str, Any]]]], members: Members
) -> list[tuple[Line, list[dict[str, Any]]]]:
    """Lines of one second, in line order: every agent.state of an agent in that second says
    where the lines left them. Derivation applies one instant's states in id order; with one
    content for all of them, that order cannot matter (two ADDMEMBERs in one second must give
    both queues)."""
    agents = {e["agent"] for _, evs in made for e in evs if e["type"] == "agent.state"}
    final = {a: members.presence(a) for a in agents}
    fixed: list[tuple[Line, list[dict[str, Any]]]] = []
    for line, evs in made:
        out = []
        for e in evs:
            if e["type"] == "agent.state":
                keep = {k: e[k] for k in ("id", "source", "ts", "type", "agent")}
                e = {**keep, **{k: v for k, v in final[e["agent"]].items() if v is not None}}
            out.append(e)
        fixed.append((line, out))
    return fixed


def by_second(
    items: Iterable[Line | Problem], source: str, members: Members
) -> Iterator[tuple[Line, list[dict[str, Any]]] | Problem]:
    """Each line with its events, a second's lines made consistent (see `same_second`)."""
    group: list[tuple[Line, list[dict[str, Any]]]] = []
    for item in items:
        if isinstance(item, Problem):
            yield item
            continue
        if group and group[0][0].ts != item.ts:
            yield from same_second(group, members)
            group = []
        group.append((item, events(item, source, members)))
    yield from same_second(group, members)
