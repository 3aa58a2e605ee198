"""Asterisk Manager Interface (AMI) -> contract events, live over TCP or from a recording.

AMI and the same PBX's queue_log describe the same calls. So that importing the queue_log after
running live on AMI adds only what AMI missed, each queue event is turned into the queue_log line
Asterisk writes for it at the same moment (`AgentConnect` -> `CONNECT|holdtime|dest uniqueid|
ringtime`, ...) and that line goes through the queue_log mapping: same ids (the line's content),
same call ids (the caller channel's Uniqueid), same agent states. Give both sources of one PBX
the same source name.

What AMI says and the line needs from elsewhere:
- `QueueCallerAbandon` is also what a queue timeout raises; only the channel's `VarSet
  QUEUESTATUS=TIMEOUT` right after tells it apart. The abandon waits for that VarSet (or the
  channel's hang-up, or a few seconds of stream time) before it becomes ABANDON or
  EXITWITHTIMEOUT.
- `AgentComplete` with `Reason: transfer` is BLINDTRANSFER / ATTENDEDTRANSFER with the target of
  the `BlindTransfer` / `AttendedTransfer` event just before it.
- COMPLETE*'s original position comes from the caller's `QueueCallerJoin`; an `AgentComplete`
  without channel fields (Asterisk sends a few) belongs to the agent's open `AgentConnect`.
- Units: HoldTime and TalkTime are seconds; RingTime is seconds in AgentConnect and milliseconds
  in AgentRingNoAnswer (as in queue_log).

After a (re)connect the client asks `QueueStatus`; its `QueueMember` snapshot is compared with
what the stream said, and memberships and pauses that changed meanwhile become agent states at
the snapshot's time (static members appear this way too).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ingest.contract import Event, describe, event_adapter
from ingest.sources.base import Item, Position, Raw, Rejected, Skipped
from ingest.sources.queue_log import ALL, Line, Members, events
from ingest.sources.reconnect import reconnecting

log = logging.getLogger(__name__)

# Queue events that are fine but make no event of their own.
NO_EVENT: dict[str, str] = {
    "QueueCallerLeave": "the caller left the queue: the outcome comes from AgentConnect or "
    "QueueCallerAbandon",
    "AgentCalled": "an agent's phone rings: a ring without answer comes as AgentRingNoAnswer",
    "AgentDump": "the agent hung up while being offered the call (queue_log AGENTDUMP)",
    "QueueMemberStatus": "a member's device state: agent states come from calls, pauses and "
    "membership",
    "QueueMemberPenalty": "a member's penalty changed",
    "QueueMemberRinginuse": "a member's ringinuse setting changed",
    "QueueParams": "a queue's figures in a QueueStatus answer",
    "QueueEntry": "a waiting caller in a QueueStatus answer: a caller who joined while "
    "disconnected gets its queue entry from the queue_log import, or starts at its answer",
}
ABANDON_WAIT = timedelta(seconds=3)  # stream time to wait for QUEUESTATUS after an abandon
WRITE_LAG = timedelta(milliseconds=5)  # queue_log line written -> AMI event stamped


@dataclass(frozen=True, slots=True)
class Frame:
    """One AMI message: its keys (first value wins), the raw text, where it started."""

    fields: dict[str, str]
    raw: str
    position: str


def frames(lines: Iterable[str]) -> Iterator[Frame | Rejected]:
    """AMI protocol text (`Key: Value` lines, a blank line ends a message) as frames."""
    block: list[str] = []
    start = 0
    for number, text in enumerate(lines, 1):
        line = text.rstrip("\r\n")
        if not line.strip():
            if block:
                yield _frame(*_fields(block, start), f"line {start}")
            block = []
            continue
        if not block:
            if line.startswith("Asterisk Call Manager/"):  # the greeting line
                continue
            start = number
        block.append(line)
    if block:
        yield _frame(*_fields(block, start), f"line {start}")


def _fields(block: list[str], start: int = 1) -> tuple[dict[str, str], str, str | None]:
    fields: dict[str, str] = {}
    bad: str | None = None
    lines = [line.rstrip("\r\n") for line in block]
    for number, line in enumerate(lines, start):
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or " " in key.strip():
            bad = bad or f"line {number}: not a `Key: Value` line: {line[:80]!r}"
            continue
        fields.setdefault(key.strip(), value.removeprefix(" "))
    return fields, "\n".join(lines), bad


def _frame(fields: dict[str, str], raw: str, bad: str | None, position: str) -> Frame | Rejected:
    if bad is not None:
        return Rejected(position, bad, raw)
    if "Event" not in fields and "Response" not in fields:
        return Rejected(position, "an AMI message without Event or Response", raw)
    return Frame(fields, raw, position)


@dataclass
class _Abandon:
    frame: Frame
    ts: datetime


@dataclass
class Translator:
    """Turns AMI frames into items, keeping what the stream said so far (pure: no I/O)."""

    source: str
    members: Members = field(default_factory=Members)
    ignored: Counter[str] = field(default_factory=Counter)  # events of no queue, per name
    joins: dict[tuple[str, str], str] = field(default_factory=dict)  # (uniqueid, queue) -> pos
    waiting: dict[tuple[str, str], datetime] = field(default_factory=dict)
    connected: dict[tuple[str, str], str] = field(default_factory=dict)  # (queue, agent) -> uid
    transfers: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    abandons: dict[str, _Abandon] = field(default_factory=dict)
    snapshot: dict[str, dict[str, tuple[bool, str]]] | None = None  # agent -> queue -> paused
    snapshot_callers: set[tuple[str, str]] = field(default_factory=set)
    last_ts: datetime | None = None

    @classmethod
    def with_static(cls, source: str, static: dict[str, list[str]] | None) -> Translator:
        """Static members (queues.conf `member =>`, from configuration: agent -> queues) are
        members from the stream's first event on, as from QUEUESTART in queue_log."""
        return cls(source, members=Members.with_static(static))

    def feed(self, frame: Frame, received: datetime | None = None) -> list[Item]:
        f = frame.fields
        name = f.get("Event")
        if name is None:
            return []  # a Response to our own action: nothing to store
        ts = _timestamp(f.get("Timestamp")) or received
        out: list[Item] = []
        if ts is not None and self.last_ts is None and self.members.static:
            out += self._line(frame, ts, "NONE", "NONE", "NONE", "QUEUESTART")
        if ts is not None:
            out += self.expire(ts)
            self.last_ts = ts
        uid = f.get("Uniqueid", "")
        if name == "VarSet" and f.get("Variable") == "QUEUESTATUS" and uid in self.abandons:
            out += self._abandoned(uid, timeout=f.get("Value") == "TIMEOUT")
        elif name == "Hangup" and uid in self.abandons:
            out += self._abandoned(uid, timeout=False)
        if name in ("BlindTransfer", "AttendedTransfer"):
            self._transfer(f)
            return out
        handler = _HANDLERS.get(name)
        if handler is None:
            if name in NO_EVENT:
                out.append(self._skip(frame, name, NO_EVENT[name], ts))
            else:
                self.ignored[name] += 1
            return out
        if ts is None:
            out.append(
                Rejected(
                    frame.position,
                    f"{name} without Timestamp: turn on timestampevents in manager.conf "
                    "(the live client uses the time of arrival)",
                    frame.raw,
                )
            )
            return out
        try:
            out += handler(self, frame, ts)
        except (KeyError, ValueError) as exc:
            out.append(Rejected(frame.position, f"{name}: {exc}", frame.raw))
        return out

    def flush(self) -> list[Item]:
        """At the end of a recording: abandons still waiting for QUEUESTATUS are abandons."""
        out: list[Item] = []
        for uid in list(self.abandons):
            out += self._abandoned(uid, timeout=False)
        return out

    # --- the queue events -----------------------------------------------------------------

    def _line(
        self,
        frame: Frame,
        ts: datetime,
        callid: str,
        queue: str,
        agent: str,
        verb: str,
        *data: str,
    ) -> list[Item]:
        # The line's second is in its id. Asterisk writes the line a moment before the event's
        # Timestamp is taken: an event stamped just after a second boundary was written in the
        # second before (measured on a real Asterisk 22: up to 3 ms).
        line = Line(-1, ts - WRITE_LAG, callid, queue, agent, verb, tuple(data), frame.raw)
        made: list[Item] = []
        for e in events(line, self.source, self.members):
            e["ts"] = ts.isoformat()
            try:
                made.append(Raw(event_adapter.validate_python(e), frame.raw))
            except ValidationError as exc:
                made.append(Rejected(frame.position, f"{verb}: {describe(exc)}", frame.raw))
        return made

    def _join(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        uid, queue, pos = _need(f, "Uniqueid"), _need(f, "Queue"), f.get("Position", "")
        self.joins[(uid, queue)] = pos
        self.waiting[(uid, queue)] = ts
        return self._line(
            frame,
            ts,
            uid,
            queue,
            "NONE",
            "ENTERQUEUE",
            "",
            _cid(f.get("CallerIDNum")),
            pos,
            _cid(f.get("CallerIDName")),
        )

    def _connect(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        uid, queue, agent = _need(f, "Uniqueid"), _need(f, "Queue"), _agent(f)
        self.waiting.pop((uid, queue), None)
        self.connected[(queue, agent)] = uid
        return self._line(
            frame,
            ts,
            uid,
            queue,
            agent,
            "CONNECT",
            _int(f, "HoldTime"),
            f.get("DestUniqueid", ""),
            _int(f, "RingTime"),  # seconds here
        )

    def _complete(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        queue, agent = _need(f, "Queue"), _agent(f)
        uid = f.get("Uniqueid") or self.connected.get((queue, agent))
        if not uid:
            raise ValueError("no Uniqueid and no open AgentConnect of this agent in this queue")
        self.connected.pop((queue, agent), None)
        hold, talk = _int(f, "HoldTime"), _int(f, "TalkTime")
        orig = self.joins.pop((uid, queue), "")
        reason = f.get("Reason", "")
        if reason == "transfer":
            verb, target = self.transfers.pop(uid, ("TRANSFER", ("", "")))
            return self._line(frame, ts, uid, queue, agent, verb, *target, hold, talk, orig)
        verb = "COMPLETEAGENT" if reason == "agent" else "COMPLETECALLER"
        return self._line(frame, ts, uid, queue, agent, verb, hold, talk, orig)

    def _abandon(self, frame: Frame, ts: datetime) -> list[Item]:
        uid = _need(frame.fields, "Uniqueid")
        _need(frame.fields, "Queue")
        out = self._abandoned(uid, timeout=False) if uid in self.abandons else []
        self.abandons[uid] = _Abandon(frame, ts)
        return out

    def _abandoned(self, uid: str, *, timeout: bool) -> list[Item]:
        a = self.abandons.pop(uid)
        f = a.frame.fields
        queue = f["Queue"]
        self.waiting.pop((uid, queue), None)
        self.joins.pop((uid, queue), None)
        verb = "EXITWITHTIMEOUT" if timeout else "ABANDON"
        return self._line(
            a.frame,
            a.ts,
            uid,
            queue,
            "NONE",
            verb,
            f.get("Position", ""),
            f.get("OriginalPosition", ""),
            _int(f, "HoldTime"),
        )

    def expire(self, now: datetime) -> list[Item]:
        out: list[Item] = []
        for uid, a in list(self.abandons.items()):
            if now - a.ts > ABANDON_WAIT:
                out += self._abandoned(uid, timeout=False)
        return out

    def _ring_no_answer(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        return self._line(
            frame,
            ts,
            _need(f, "Uniqueid"),
            _need(f, "Queue"),
            _agent(f),
            "RINGNOANSWER",
            _int(f, "RingTime"),  # milliseconds here, as in queue_log
        )

    def _transfer(self, f: dict[str, str]) -> None:
        if f.get("Result", "Success") != "Success":
            return
        if f["Event"] == "BlindTransfer":
            uid = f.get("TransfereeUniqueid", "")
            self.transfers[uid] = ("BLINDTRANSFER", (f.get("Extension", ""), f.get("Context", "")))
            return
        uid = f.get("TransfereeUniqueid", "")  # the caller: the party being transferred
        dest = f.get("DestType", "")
        target: tuple[str, ...]
        if dest == "Bridge":
            target = ("BRIDGE", f.get("DestBridgeUniqueid", ""))
        elif dest == "App":
            target = ("APP", f.get("DestApp", ""))
        else:
            target = ("LINK", f.get("LocalOneChannel", ""), f.get("LocalTwoChannel", ""))
        self.transfers[uid] = ("ATTENDEDTRANSFER", target)

    def _member_added(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        paused = "PAUSED" if f.get("Paused") == "1" else ""
        return self._line(frame, ts, "NONE", _need(f, "Queue"), _agent(f), "ADDMEMBER", paused)

    def _member_removed(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        return self._line(frame, ts, "NONE", _need(f, "Queue"), _agent(f), "REMOVEMEMBER", "")

    def _member_pause(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        verb = "PAUSE" if f.get("Paused") == "1" else "UNPAUSE"
        return self._line(
            frame, ts, "NONE", _need(f, "Queue"), _agent(f), verb, f.get("PausedReason", "")
        )

    # --- resync with QueueStatus ----------------------------------------------------------

    def _queue_member(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        agent = f.get("Name") or f.get("MemberName") or _need(f, "Location")
        snap = self.snapshot if self.snapshot is not None else {}
        snap.setdefault(agent, {})[_need(f, "Queue")] = (
            f.get("Paused") == "1",
            f.get("PausedReason", ""),
        )
        self.snapshot = snap
        return []

    def _queue_entry(self, frame: Frame, ts: datetime) -> list[Item]:
        f = frame.fields
        self.snapshot_callers.add((f.get("Uniqueid", ""), f.get("Queue", "")))
        return [self._skip(frame, "QueueEntry", NO_EVENT["QueueEntry"], ts)]

    def _status_complete(self, frame: Frame, ts: datetime) -> list[Item]:
        """Memberships and pauses that changed while the stream was not heard."""
        snap, self.snapshot = self.snapshot or {}, None
        out: list[Item] = []
        agents = set(snap) | set(self.members.queues)
        for agent in sorted(agents):
            now = snap.get(agent, {})
            known = set(self.members.queues.get(agent, set()))
            for queue in sorted(set(now) - known):
                flag = "PAUSED" if now[queue][0] else ""
                out += self._line(frame, ts, "RESYNC", queue, agent, "ADDMEMBER", flag)
            for queue in sorted(known - set(now)):
                out += self._line(frame, ts, "RESYNC", queue, agent, "REMOVEMEMBER", "")
            later = ts + timedelta(milliseconds=1)  # after the membership, in a fixed order
            known_paused = self.members.paused.get(agent, {})
            for queue in sorted(now):
                paused, reason = now[queue]
                was = known_paused.get(queue) or known_paused.get(ALL)
                if paused and was != (reason or "paused"):
                    out += self._line(
                        frame, later, "RESYNC", queue, agent, "PAUSE", reason or "paused"
                    )
                elif not paused and was is not None:
                    out += self._line(frame, later, "RESYNC", queue, agent, "UNPAUSE", "")
        gone = [key for key in self.waiting if key not in self.snapshot_callers]
        self.snapshot_callers = set()
        if gone:
            for key in gone:
                del self.waiting[key]
            out.append(
                self._skip(
                    frame,
                    "QueueStatusComplete",
                    f"{len(gone)} caller(s) left the queue while the stream was not heard; their "
                    "outcome comes from the queue_log import",
                    ts,
                )
            )
        return out

    def _skip(self, frame: Frame, kind: str, reason: str, ts: datetime | None) -> Skipped:
        return Skipped(frame.position, kind, reason, frame.raw, ts)


def _need(f: dict[str, str], key: str) -> str:
    value = f.get(key, "").strip()
    if not value:
        raise KeyError(f"{key} is missing")
    return value


def _agent(f: dict[str, str]) -> str:
    return f.get("MemberName") or _need(f, "Interface")


def _cid(value: str | None) -> str:
    return "" if value in (None, "<unknown>") else value


def _int(f: dict[str, str], key: str) -> str:
    value = f.get(key, "").strip()
    if value and not value.isdigit():
        raise ValueError(f"{key} {value!r} is not a whole number")
    return value


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


_HANDLERS: dict[str, Any] = {
    "QueueCallerJoin": Translator._join,
    "AgentConnect": Translator._connect,
    "AgentComplete": Translator._complete,
    "QueueCallerAbandon": Translator._abandon,
    "AgentRingNoAnswer": Translator._ring_no_answer,
    "QueueMemberAdded": Translator._member_added,
    "QueueMemberRemoved": Translator._member_removed,
    "QueueMemberPause": Translator._member_pause,
    "QueueMemberPaused": Translator._member_pause,  # the name before Asterisk 12
    "QueueMember": Translator._queue_member,
    "QueueEntry": Translator._queue_entry,
    "QueueStatusComplete": Translator._status_complete,
}


# --- a recording -------------------------------------------------------------------------------


@dataclass
class AmiFile:
    """A recorded AMI stream (raw protocol text), e.g. for replays and tests."""

    path: Path
    name: str
    static: dict[str, list[str]] | None = None
    translator: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.translator = Translator.with_static(self.name, self.static)

    def items(self) -> Iterator[Item]:
        with self.path.open(encoding="utf-8", errors="replace", newline="") as f:
            yield from translate(frames(f), self.translator)

    @property
    def ignored(self) -> Counter[str]:
        return self.translator.ignored


def translate(source: Iterable[Frame | Rejected], translator: Translator) -> Iterator[Item]:
    count = 0
    for frame in source:
        if isinstance(frame, Rejected):
            yield frame
            continue
        count += 1
        yield from translator.feed(frame)
    yield from translator.flush()
    yield Position({"messages": count})


# --- the live client ---------------------------------------------------------------------------


class AmiAuthError(Exception):
    """The PBX refused the login: retrying with the same secret will not help."""


@dataclass
class AmiClient:
    """Logs in, asks QueueStatus, reads events; reconnects with backoff, resyncing each time.

    Yields items as they come and a Position whenever the socket has nothing more buffered,
    which is when the caller should commit. Ends when `stop` is set."""

    host: str
    port: int
    username: str
    secret: str
    name: str
    stop: asyncio.Event
    backoff: tuple[float, float] = (1.0, 30.0)
    static: dict[str, list[str]] | None = None
    connects: int = 0
    translator: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.translator = Translator.with_static(self.name, self.static)

    def items(self) -> AsyncIterator[Item]:
        return reconnecting(
            label=f"AMI {self.host}:{self.port}",
            host=self.host,
            port=self.port,
            stop=self.stop,
            backoff=self.backoff,
            login=self._login,
            session=self._session,
            refused=AmiAuthError,
            after=self._after,
        )

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> AsyncIterator[Item]:
        log.info("AMI %s:%s: logged in, resyncing", self.host, self.port)
        writer.write(_action("QueueStatus", ActionID=f"resync-{self.connects}"))
        await writer.drain()
        async for item in self._read(reader):
            yield item

    def _after(self) -> Iterator[Item]:
        yield from self.translator.flush()
        yield Position({"connects": self.connects})

    async def _login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()  # "Asterisk Call Manager/x.y.z"
        writer.write(
            _action(
                "Login", ActionID="login", Username=self.username, Secret=self.secret, Events="on"
            )
        )
        await writer.drain()
        while True:
            f = await _read_message(reader)
            if f.get("ActionID") != "login" or "Response" not in f:
                continue
            if f["Response"] != "Success":
                raise AmiAuthError(f"AMI login refused: {f.get('Message', f['Response'])}")
            self.connects += 1
            return

    async def _read(self, reader: asyncio.StreamReader) -> AsyncIterator[Item]:
        count, since, last = 0, 0, time.monotonic()
        partial: list[str] = []
        while not self.stop.is_set():
            try:
                block = await asyncio.wait_for(_read_block(reader, partial), 1.0)
            except TimeoutError:
                # a quiet line: abandons still waiting for their QUEUESTATUS are decided now
                for item in self.translator.expire(datetime.now(UTC)):
                    yield item
                yield Position({"connects": self.connects, "messages": count})
                since, last = 0, time.monotonic()
                continue
            if block is None:
                return
            count += 1
            frame = _frame(*_fields(block), f"message {count} of connection {self.connects}")
            if isinstance(frame, Rejected):
                yield frame
            else:
                for item in self.translator.feed(frame, datetime.now(UTC)):
                    since += 1
                    yield item
            if since >= 500 or time.monotonic() - last > 0.25:  # commit often, in batches
                yield Position({"connects": self.connects, "messages": count})
                since, last = 0, time.monotonic()


def _action(name: str, **fields: str) -> bytes:
    lines = [f"Action: {name}", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_block(
    reader: asyncio.StreamReader, lines: list[str] | None = None
) -> list[str] | None:
    """The next message's lines (None at the end of the stream). `lines` keeps what was read
    so far across a cancelled wait (a timeout must not lose half a message)."""
    lines = [] if lines is None else lines
    while True:
        raw = await reader.readline()
        if not raw:
            return None
        line = raw.decode("utf-8", errors="replace")
        if not line.strip():
            if lines:
                block = lines[:]
                lines.clear()
                return block
            continue
        lines.append(line)


async def _read_message(reader: asyncio.StreamReader) -> dict[str, str]:
    block = await _read_block(reader)
    if block is None:
        raise ConnectionError("connection closed during login")
    out: dict[str, str] = {}
    for line in block:
        key, _, value = line.rstrip("\r\n").partition(":")
        out.setdefault(key.strip(), value.strip())
    return out


__all__ = ["AmiAuthError", "AmiClient", "AmiFile", "Event", "Frame", "Translator", "frames"]
