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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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


def _file_lines(lines: Iterable[str], start: int) -> Iterator[Line | Problem]:
    for index, raw in enumerate(lines, start):
        raw = raw.rstrip("\r\n")
        if not raw.strip():
            continue
        parts = raw.split("|")
        if len(parts) < 5 or not parts[0].strip().isdigit():
            yield Problem(
                index,
                f"line {index + 1}: not a queue_log line (epoch|callid|queue|agent|event|...)",
            )
            continue
        ts = datetime.fromtimestamp(int(parts[0]), UTC)
        data = tuple(parts[5:])
        yield Line(index, ts, parts[1], parts[2], parts[3], parts[4].strip().upper(), data, raw)


def _csv_lines(
    layout: str, header: str, rest: Iterator[str], tz: ZoneInfo
) -> Iterator[Line | Problem]:
    reader = csv.DictReader(io.StringIO(header + "".join(rest)))
    for index, row in enumerate(reader, 1):
        raw = ",".join(v or "" for v in row.values())
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
        except (KeyError, ValueError) as exc:
            yield Problem(index, f"row {index + 1}: {exc}")


def _trim(data: tuple[str, ...]) -> tuple[str, ...]:
    out = list(data)
    while out and out[-1] == "":
        out.pop()
    return tuple(out)


def _local(text: str, tz: ZoneInfo) -> datetime:
    t = datetime.fromisoformat(text.strip())
    return (t if t.tzinfo else t.replace(tzinfo=tz)).astimezone(UTC)


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
    ts = datetime.fromtimestamp(int(row["date_time"]), UTC)
    return Line(index, ts, row["callid"], row["queue_name"], row["type"], verb, data, raw)


def _num(value: str | None) -> float | None:
    try:
        v = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return v if v is not None and v >= 0 else None


@dataclass
class Members:
    """What the stream said so far about each agent: queues joined, paused or not."""

    queues: dict[str, set[str]] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)


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

    d = list(line.data) + [""] * 6
    q, agent, call = line.queue, line.agent, line.callid
    has_queue = q not in ("", "NONE")
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
        _after_call(add, agent, members)
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
        _after_call(add, agent, members)
    elif v == "ATTENDEDTRANSFER":
        if d[0] == "LINK":  # LINK's method data is chan1|chan2: every later field shifts by one
            target, talk = f"{d[1]}|{d[2]}", _num(d[4])
        else:
            target, talk = d[1] or d[0] or "unknown", _num(d[3])
        add("call.transferred", call_id=call, queue=q, agent=agent, to_external=target)
        add("call.ended", call_id=call, queue=q, agent=agent, talk_s=talk, ended_by="agent")
        _after_call(add, agent, members)
    elif v in ("AGENTLOGIN", "AGENTCALLBACKLOGIN", "ADDMEMBER"):
        joined = members.queues.setdefault(agent, set())
        if has_queue:
            joined.add(q)
        if v == "ADDMEMBER" and d[0] == "PAUSED":
            members.paused.add(agent)
            add(
                "agent.state",
                agent=agent,
                state="away",
                reason="paused",
                queues=sorted(joined) or None,
            )
        else:
            add("agent.state", agent=agent, state="available", queues=sorted(joined) or None)
    elif v in ("AGENTLOGOFF", "AGENTCALLBACKLOGOFF", "REMOVEMEMBER"):
        joined = members.queues.setdefault(agent, set())
        if v == "REMOVEMEMBER" and has_queue:
            joined.discard(q)
        else:
            joined.clear()
        if joined:  # still a member elsewhere: not logged out
            add(
                "agent.state",
                agent=agent,
                state="away" if agent in members.paused else "available",
                reason="paused" if agent in members.paused else None,
                queues=sorted(joined),
            )
        else:
            members.paused.discard(agent)
            add("agent.state", agent=agent, state="logged_out")
    elif v in ("PAUSE", "PAUSEALL"):
        members.paused.add(agent)
        add("agent.state", agent=agent, state="away", reason=d[0] or "paused")
    elif v in ("UNPAUSE", "UNPAUSEALL"):
        members.paused.discard(agent)
        add("agent.state", agent=agent, state="available")
    return out


def _after_call(add: Any, agent: str, members: Members) -> None:
    # no wrap-up in queue_log: back to available at once, unless paused meanwhile
    if agent not in members.paused:
        add("agent.state", agent=agent, state="available")
