"""FreeSWITCH mod_callcenter over the event socket (ESL) -> contract events.

mod_callcenter announces everything as `CUSTOM callcenter::info` events, told apart by
`CC-Action`. Its times (`CC-Member-Joined-Time`, `CC-Agent-Answered-Time`, ...) are epoch
seconds; every event also carries `Event-Date-Timestamp` (epoch microseconds).

- member-queue-start -> call.queued (call id: `CC-Member-Session-UUID`, the caller's channel,
  the same in every queue it visits; customer: `CC-Member-CID-Number`);
- bridge-agent-start -> call.answered at `CC-Agent-Answered-Time`, the wait from
  `CC-Member-Joined-Time`;
- bridge-agent-end -> call.ended at `CC-Bridge-Terminated-Time`, talk from the answer;
- bridge-agent-fail -> call.missed (an offer the agent did not take);
- member-queue-end with `CC-Cause: Cancel` -> by `CC-Cancel-Reason`: TIMEOUT -> overflowed
  (timeout), NO_AGENT_TIMEOUT -> overflowed (empty), EXIT_WITH_KEY -> overflowed (key),
  BREAK_OUT or NONE -> abandoned; `Terminated` (after an agent) makes no event of its own;
- agent-status-change (`CC-Agent-Status`): Logged Out -> logged_out, Available / Available (On
  Demand) -> available, On Break -> away (break);
- agent-state-change (`CC-Agent-State`): Waiting -> available while the status is Available
  (mod_callcenter has no wrap-up state: its wrap_up_time only delays the next offer), the
  other states add nothing to what the calls say.

Event ids come from the event's content (action, member, agent, times), so a replay or a
second consumer stores nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from ingest.contract import describe, event_adapter
from ingest.sources.base import Item, Position, Raw, Rejected, Skipped
from ingest.sources.reconnect import reconnecting

log = logging.getLogger(__name__)

SUBCLASS = "callcenter::info"
NO_EVENT = {
    "agent-offering": "a call is offered to an agent: the answer or the failure follows",
    "members-count": "the number of callers in a queue",
    "member-queue-end": "the call ended after an agent (CC-Cause Terminated): bridge-agent-end "
    "made the event",
    "agent-state-change": "an agent state that adds nothing to what the calls say",
}
CANCEL = {
    "TIMEOUT": ("call.overflowed", "timeout"),
    "NO_AGENT_TIMEOUT": ("call.overflowed", "empty"),
    "EXIT_WITH_KEY": ("call.overflowed", "key"),
    "BREAK_OUT": ("call.abandoned", None),
    "NONE": ("call.abandoned", None),
}
STATUS = {
    "logged out": ("logged_out", None),
    "available": ("available", None),
    "available (on demand)": ("available", None),
    "on break": ("away", "break"),
}


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, str]
    raw: str
    position: str


def parse_plain(body: str) -> dict[str, str]:
    """An `event plain` body: `Key: url-encoded value` lines."""
    headers: dict[str, str] = {}
    for line in body.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            headers.setdefault(key.strip(), unquote(value.strip()))
    return headers


def messages(lines: Iterable[str]) -> Iterator[Message]:
    """A recording of plain events, one block per event, blank lines between them (what the
    docs show and what `fs_cli -x '/event plain ...'` prints)."""
    block: list[str] = []
    start = 0
    for number, text in enumerate(lines, 1):
        line = text.rstrip("\r\n")
        if not line.strip():
            if block:
                yield Message(parse_plain("\n".join(block)), "\n".join(block), f"line {start}")
            block = []
            continue
        if not block:
            start = number
        block.append(line)
    if block:
        yield Message(parse_plain("\n".join(block)), "\n".join(block), f"line {start}")


def _epoch(value: str | None) -> datetime | None:
    if value is None or not value.strip().isdigit() or int(value) == 0:
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _event_time(h: dict[str, str]) -> datetime | None:
    micros = h.get("Event-Date-Timestamp", "")
    if micros.isdigit():
        try:
            return datetime.fromtimestamp(int(micros) / 1_000_000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


@dataclass
class Translator:
    source: str
    status: dict[str, str] = field(default_factory=dict)  # agent -> last CC-Agent-Status

    def feed(self, m: Message) -> list[Item]:
        h = m.headers
        if h.get("Event-Subclass") != SUBCLASS:
            return [
                Skipped(m.position, h.get("Event-Name", "?"), "not a callcenter::info event", m.raw)
            ]
        action = h.get("CC-Action", "")
        try:
            made = self._event(action, h)
        except ValueError as exc:
            return [Rejected(m.position, f"{action or 'callcenter event'}: {exc}", m.raw)]
        if made is None:
            reason = NO_EVENT.get(action, f"a CC-Action callboard does not use ({action!r})")
            return [
                Skipped(m.position, action or "callcenter::info", reason, m.raw, _event_time(h))
            ]
        out: list[Item] = []
        for e in made:
            try:
                out.append(Raw(event_adapter.validate_python(e), m.raw))
            except ValidationError as exc:
                out.append(Rejected(m.position, f"{action}: {describe(exc)}", m.raw))
        return out

    def _event(self, action: str, h: dict[str, str]) -> list[dict[str, Any]] | None:
        def need(key: str) -> str:
            value = h.get(key, "").strip()
            if not value:
                raise ValueError(f"{key} is missing")
            return value

        def at(key: str) -> datetime:
            t = _epoch(h.get(key))
            if t is None:
                raise ValueError(f"{key} is missing or not epoch seconds ({h.get(key)!r})")
            return t

        def precise(t: datetime) -> datetime:
            # the event's own microsecond time, when it is the same second as the epoch field:
            # keeps the order of events within a second (a call's end before the agent's Waiting)
            e = _event_time(h)
            return e if e is not None and int(e.timestamp()) == int(t.timestamp()) else t

        def event(kind: str, key: str, ts: datetime, **fields: Any) -> dict[str, Any]:
            return {
                "id": key,
                "source": self.source,
                "ts": ts.isoformat(),
                "type": kind,
                **{k: v for k, v in fields.items() if v is not None},
            }

        if action == "member-queue-start":
            ts = _epoch(h.get("CC-Member-Joined-Time")) or _event_time(h)
            if ts is None:
                raise ValueError("no CC-Member-Joined-Time and no Event-Date-Timestamp")
            member = need("CC-Member-UUID")
            return [
                event(
                    "call.queued",
                    f"{member}:queued",
                    ts,
                    call_id=need("CC-Member-Session-UUID"),
                    queue=need("CC-Queue"),
                    customer=h.get("CC-Member-CID-Number") or None,
                )
            ]
        if action == "bridge-agent-start":
            answered, joined = at("CC-Agent-Answered-Time"), _epoch(h.get("CC-Member-Joined-Time"))
            member = need("CC-Member-UUID")
            return [
                event(
                    "call.answered",
                    f"{member}:answered",
                    precise(answered),
                    call_id=need("CC-Member-Session-UUID"),
                    queue=need("CC-Queue"),
                    agent=need("CC-Agent"),
                    wait_s=None if joined is None else (answered - joined).total_seconds(),
                )
            ]
        if action == "bridge-agent-end":
            ended, answered = at("CC-Bridge-Terminated-Time"), at("CC-Agent-Answered-Time")
            member = need("CC-Member-UUID")
            return [
                event(
                    "call.ended",
                    f"{member}:ended",
                    precise(ended),
                    call_id=need("CC-Member-Session-UUID"),
                    queue=need("CC-Queue"),
                    agent=need("CC-Agent"),
                    talk_s=(ended - answered).total_seconds(),
                )
            ]
        if action == "bridge-agent-fail":
            called = _epoch(h.get("CC-Agent-Called-Time"))
            aborted = _epoch(h.get("CC-Agent-Aborted-Time"))
            ts = aborted or _event_time(h)
            if ts is None:
                raise ValueError("no CC-Agent-Aborted-Time and no Event-Date-Timestamp")
            member, agent = need("CC-Member-UUID"), need("CC-Agent")
            ring = None if called is None or aborted is None else (aborted - called)
            return [
                event(
                    "call.missed",
                    f"{member}:missed:{agent}:{int(ts.timestamp())}",
                    ts,
                    call_id=need("CC-Member-Session-UUID"),
                    queue=need("CC-Queue"),
                    agent=agent,
                    ring_s=None if ring is None else ring.total_seconds(),
                )
            ]
        if action == "member-queue-end":
            if h.get("CC-Cause") != "Cancel":
                return None
            left, joined = at("CC-Member-Leaving-Time"), _epoch(h.get("CC-Member-Joined-Time"))
            reason = h.get("CC-Cancel-Reason", "NONE").strip().upper() or "NONE"
            if reason not in CANCEL:
                raise ValueError(f"CC-Cancel-Reason {reason!r} is not one callboard knows")
            kind, why = CANCEL[reason]
            member = need("CC-Member-UUID")
            return [
                event(
                    kind,
                    f"{member}:left",
                    precise(left),
                    call_id=need("CC-Member-Session-UUID"),
                    queue=need("CC-Queue"),
                    reason=why,
                    wait_s=None if joined is None else (left - joined).total_seconds(),
                )
            ]
        if action == "agent-status-change":
            agent, status = need("CC-Agent"), need("CC-Agent-Status")
            if status.lower() not in STATUS:
                raise ValueError(f"CC-Agent-Status {status!r} is not one callboard knows")
            self.status[agent] = status.lower()
            ts = _event_time(h)
            if ts is None:
                raise ValueError("Event-Date-Timestamp is missing")
            state, away = STATUS[status.lower()]
            return [
                event(
                    "agent.state",
                    f"{agent}:status:{h['Event-Date-Timestamp']}",
                    ts,
                    agent=agent,
                    state=state,
                    reason=away,
                )
            ]
        if action == "agent-state-change":
            agent, state = need("CC-Agent"), need("CC-Agent-State")
            if state != "Waiting" or self.status.get(agent, "available").startswith("on break"):
                return None
            ts = _event_time(h)
            if ts is None:
                raise ValueError("Event-Date-Timestamp is missing")
            return [
                event(
                    "agent.state",
                    f"{agent}:state:{h['Event-Date-Timestamp']}",
                    ts,
                    agent=agent,
                    state="available",
                )
            ]
        return None

    def resync(self, table: str, now: datetime) -> list[Item]:
        """`callcenter_config agent list` (pipe-separated, a header line): each agent's status
        now, as agent states where it differs from what the stream said."""
        out: list[Item] = []
        rows = [r for r in table.splitlines() if "|" in r]
        if not rows:
            return out
        head = rows[0].split("|")
        if "name" not in head or "status" not in head:
            return [Rejected("agent list", "no name|status header", table[:200])]
        for row in rows[1:]:
            cells = dict(zip(head, row.split("|"), strict=False))
            agent, status = cells.get("name", ""), cells.get("status", "").lower()
            if not agent or status not in STATUS or self.status.get(agent) == status:
                continue
            self.status[agent] = status
            state, reason = STATUS[status]
            e = {
                "id": f"{agent}:resync:{int(now.timestamp() * 1_000_000)}",
                "source": self.source,
                "ts": now.isoformat(),
                "type": "agent.state",
                "agent": agent,
                "state": state,
                **({"reason": reason} if reason else {}),
            }
            try:
                out.append(event_adapter.validate_python(e))
            except ValidationError as exc:
                out.append(Rejected("agent list", describe(exc), row))
        return out


# --- the live client (ESL inbound) -------------------------------------------------------------


class EslAuthError(Exception):
    """FreeSWITCH refused the password."""


@dataclass
class EslClient:
    """Connects to mod_event_socket, authenticates, subscribes to `CUSTOM callcenter::info`,
    resyncs agent statuses with `callcenter_config agent list`; reconnects with backoff."""

    host: str
    port: int
    password: str
    name: str
    stop: asyncio.Event
    backoff: tuple[float, float] = (1.0, 30.0)
    connects: int = 0
    translator: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.translator = Translator(self.name)

    def items(self) -> AsyncIterator[Item]:
        return reconnecting(
            label=f"ESL {self.host}:{self.port}",
            host=self.host,
            port=self.port,
            stop=self.stop,
            backoff=self.backoff,
            login=self._auth,
            session=self._session,
            refused=EslAuthError,
            after=lambda: [Position({"connects": self.connects})],
        )

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> AsyncIterator[Item]:
        table = await self._command(reader, writer, "api callcenter_config agent list")
        for item in self.translator.resync(table, datetime.now(UTC)):
            yield item
        reply = await self._command(reader, writer, f"event plain CUSTOM {SUBCLASS}")
        if not reply.startswith("+OK"):
            raise ConnectionError(f"event subscription refused: {reply}")
        yield Position({"connects": self.connects})
        async for item in self._read(reader):
            yield item

    async def _auth(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await _read_frame(reader)
        if head.get("Content-Type") != "auth/request":
            raise ConnectionError(f"expected auth/request, got {head.get('Content-Type')!r}")
        writer.write(f"auth {self.password}\n\n".encode())
        await writer.drain()
        head, _ = await _read_frame(reader)
        if not head.get("Reply-Text", "").startswith("+OK"):
            raise EslAuthError(f"FreeSWITCH refused the password: {head.get('Reply-Text')}")
        self.connects += 1

    async def _command(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, command: str
    ) -> str:
        writer.write(f"{command}\n\n".encode())
        await writer.drain()
        while True:
            head, body = await _read_frame(reader)
            kind = head.get("Content-Type")
            if kind == "api/response":
                return body
            if kind == "command/reply":
                return head.get("Reply-Text", "")

    async def _read(self, reader: asyncio.StreamReader) -> AsyncIterator[Item]:
        count, last = 0, time.monotonic()
        pending: asyncio.Task[tuple[dict[str, str], str]] | None = None
        try:
            while not self.stop.is_set():
                pending = pending or asyncio.ensure_future(_read_frame(reader))
                done, _ = await asyncio.wait({pending}, timeout=1.0)
                if not done:
                    yield Position({"connects": self.connects, "events": count})
                    continue
                head, body = pending.result()
                pending = None
                kind = head.get("Content-Type")
                if kind == "text/disconnect-notice":
                    return
                if kind != "text/event-plain":
                    continue
                count += 1
                m = Message(parse_plain(body), body, f"event {count} of connection {self.connects}")
                for item in self.translator.feed(m):
                    yield item
                if time.monotonic() - last > 0.25:  # commit often, in batches
                    yield Position({"connects": self.connects, "events": count})
                    last = time.monotonic()
        finally:
            if pending is not None:
                pending.cancel()


async def _read_frame(reader: asyncio.StreamReader) -> tuple[dict[str, str], str]:
    """One ESL frame: headers up to a blank line, then Content-Length bytes of body."""
    head: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionError("connection closed")
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if head:
                break
            continue
        key, _, value = line.partition(":")
        head[key.strip()] = unquote(value.strip())
    length = head.get("Content-Length", "0")
    body = b""
    if length.isdigit() and int(length) > 0:
        body = await reader.readexactly(int(length))
    return head, body.decode("utf-8", errors="replace")
