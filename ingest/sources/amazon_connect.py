"""Amazon Connect -> contract events: the agent event stream and contact events.

Records are JSON, one after another: JSON lines, records concatenated as Firehose writes them
to S3, pretty-printed objects, or a Lambda `{"Records": [{"kinesis": {"data": base64}}]}`
batch. Each record is told apart by its content:

- an **agent event** (Kinesis agent event stream: `AgentARN`, `EventType` LOGIN / LOGOUT /
  STATE_CHANGE / HEART_BEAT, `PreviousAgentSnapshot` and `CurrentAgentSnapshot`). Each record
  is read on its own, by comparing its two snapshots: a changed `AgentStatus` is an agent state
  (ROUTABLE -> available, NOT_ROUTABLE -> away with the status name as reason, OFFLINE ->
  logged out); a contact entering CONNECTED is answered, MISSED or REJECTED is missed, ENDED
  is the end of the conversation and the start of after-call work, and a contact gone from the
  snapshot after ENDED is the end of after-call work (AWS: "ENDED - the conversation has ended,
  and the agent has started doing ACW for that contact"; the contact leaves the agent's
  snapshot when the agent clears it);
- a **contact event** (EventBridge `detail-type: Amazon Connect Contact Event`, or its
  `detail` alone): QUEUED -> queued, CONNECTED_TO_AGENT -> answered, DISCONNECTED -> ended
  after an agent, abandoned after a queue, nothing before one.

A **queued callback** is a contact of its own with `initiationMethod` CALLBACK, linked to the
caller's contact by `previousContactId` (AWS: the callback contact is created when the customer
chooses it, before the inbound contact disconnects; its time in queue counts as queue time).
Its contact events carry the caller's call id (the previous contact's): QUEUED ->
callback.requested (at its initiation, the moment the customer chose it; the inbound contact's
wait on the line ends there, and its disconnect that follows is not an abandon),
CONNECTED_TO_AGENT -> callback.connected, DISCONNECTED -> ended after an agent, else
callback.failed. The agent event stream does not carry that link, so its callback contacts are
left to the contact events.

Both streams name a contact's events alike (`<ContactId>:answered`, `:ended`), so a contact
seen in both is stored once. The call id is the `InitialContactId` (one contact across
transfers), the agent the id at the end of the agent's ARN, the queue the id at the end of the
queue's ARN (contact events carry no queue name).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ingest.contract import describe, event_adapter
from ingest.sources.base import Item, Raw, Rejected, Skipped
from ingest.sources.times import aware_time

CHANNELS = {"VOICE": "voice", "CHAT": "chat", "EMAIL": "email"}
_decoder = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class Record:
    value: Any
    raw: str
    position: str


def records(text: str, *, where: str = "line") -> Iterator[Record | Rejected]:
    """Every JSON value in the text, with the line it starts on. A value that is not JSON is
    rejected with the parser's message, and reading goes on at the next line that starts a
    record (`{` in the first column, or any line of a JSON-lines file)."""
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            return
        line = text.count("\n", 0, pos) + 1
        try:
            value, end = _decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            bad_line = text.count("\n", 0, exc.pos) + 1
            nxt = text.find("\n{", max(exc.pos - 1, pos))
            end = n if nxt < 0 else nxt + 1
            yield Rejected(
                f"{where} {line}",
                f"not JSON: {exc.msg} at line {bad_line} column {exc.colno}",
                text[pos:end][:2000],
            )
            pos = end
            continue
        raw = text[pos:end]
        pos = end
        if isinstance(value, dict) and isinstance(value.get("Records"), list):
            yield from _kinesis_batch(value["Records"], f"{where} {line}")
        elif isinstance(value, list):  # a JSON array of records (the HTTP endpoint)
            for i, v in enumerate(value):
                yield Record(v, json.dumps(v), f"{where} {line} item {i}")
        else:
            yield Record(value, raw, f"{where} {line}")


def _kinesis_batch(batch: list[Any], position: str) -> Iterator[Record | Rejected]:
    for i, rec in enumerate(batch):
        where = f"{position} record {i}"
        kinesis = rec.get("kinesis") if isinstance(rec, dict) else None
        data = kinesis.get("data") if isinstance(kinesis, dict) else None
        if not isinstance(data, str):
            yield Rejected(where, "a Records batch item without kinesis.data", json.dumps(rec))
            continue
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
            yield Record(json.loads(text), text, where)
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
            yield Rejected(where, f"kinesis.data is not base64 of JSON: {exc}", data[:200])


def _get(obj: Any, *path: str) -> Any:
    """A nested field, its key matched without regard to case (the docs' own samples mix
    `agentInfo` and `AgentInfo`)."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        if key in obj:
            obj = obj[key]
            continue
        lower = key.lower()
        obj = next((v for k, v in obj.items() if k.lower() == lower), None)
    return obj


def _arn_id(arn: Any) -> str | None:
    if not isinstance(arn, str) or not arn.strip():
        return None
    return arn.rstrip("/").rsplit("/", 1)[-1]


def _maybe_time(value: Any, name: str) -> datetime | None:
    return None if value in (None, "") else aware_time(value, name)


@dataclass
class Translator:
    source: str

    def feed(self, record: Record | Rejected) -> list[Item]:
        if isinstance(record, Rejected):
            return [record]
        v = record.value
        if not isinstance(v, dict):
            return [Rejected(record.position, "a record must be a JSON object", record.raw)]
        try:
            if "AgentARN" in v or "EventType" in v:
                made = self._agent_event(v)
                kind = f"agent {v.get('EventType')}"
            elif _get(v, "detail-type") is not None or "eventType" in v or "detail" in v:
                detail = v.get("detail", v)
                made = self._contact_event(detail if isinstance(detail, dict) else {})
                kind = f"contact {_get(detail, 'eventType')}"
            else:
                return [
                    Rejected(
                        record.position,
                        "neither an agent event (AgentARN, EventType) nor a contact event "
                        "(detail-type, detail.eventType)",
                        record.raw,
                    )
                ]
        except ValueError as exc:
            return [Rejected(record.position, str(exc), record.raw)]
        if isinstance(made, str):
            return [Skipped(record.position, kind, made, record.raw)]
        out: list[Item] = []
        for e in made:
            e["source"] = self.source
            try:
                out.append(Raw(event_adapter.validate_python(e), record.raw))
            except ValidationError as exc:
                out.append(Rejected(record.position, describe(exc), record.raw))
        return out

    # --- the agent event stream -----------------------------------------------------------

    def _agent_event(self, v: dict[str, Any]) -> list[dict[str, Any]] | str:
        kind = v.get("EventType")
        agent = _arn_id(v.get("AgentARN"))
        if agent is None:
            raise ValueError("AgentARN is missing")
        ts = aware_time(v.get("EventTimestamp"), "EventTimestamp")
        if kind == "HEART_BEAT":
            return "a heartbeat every 120 s without a change: nothing happened"
        cur = v.get("CurrentAgentSnapshot") or {}
        prev = v.get("PreviousAgentSnapshot") or {}
        out: list[dict[str, Any]] = []
        if kind == "LOGOUT":
            out.append(_agent_state(agent, ts, "logged_out", None, f"{agent}:logout:{ts}"))
        elif kind in ("LOGIN", "STATE_CHANGE"):
            status = _get(cur, "AgentStatus") or {}
            before = _get(prev, "AgentStatus") or {}
            changed = (_get(status, "Name"), _get(status, "StartTimestamp")) != (
                _get(before, "Name"),
                _get(before, "StartTimestamp"),
            )
            if status and (kind == "LOGIN" or changed):
                since = _maybe_time(_get(status, "StartTimestamp"), "AgentStatus.StartTimestamp")
                state, reason = _status(status)
                at = since or ts
                out.append(_agent_state(agent, at, state, reason, f"{agent}:status:{at}"))
            out += _contacts(agent, ts, prev, cur)
        else:
            raise ValueError(
                f"EventType {kind!r} is not one of LOGIN, LOGOUT, STATE_CHANGE, HEART_BEAT"
            )
        return out or "a configuration change (routing profile, settings): no state changed"

    # --- contact events -------------------------------------------------------------------

    def _contact_event(self, d: dict[str, Any]) -> list[dict[str, Any]] | str:
        kind = _get(d, "eventType")
        contact = _get(d, "contactId")
        if not isinstance(contact, str) or not contact:
            raise ValueError("detail.contactId is missing")
        channel = str(_get(d, "channel") or "VOICE").upper()
        if channel not in CHANNELS:
            return f"a {channel} contact: callboard counts voice, chat and email"
        callback = str(_get(d, "initiationMethod") or "").upper() == "CALLBACK"
        call = _get(d, "initialContactId") or contact
        if callback:  # the caller's contact, whose place the callback keeps
            call = _get(d, "previousContactId") or call
        queue = _arn_id(_get(d, "queueInfo", "queueArn"))
        enqueued = _maybe_time(_get(d, "queueInfo", "enqueueTimestamp"), "enqueueTimestamp")
        agent = _arn_id(_get(d, "agentInfo", "agentArn"))
        connected = _maybe_time(
            _get(d, "agentInfo", "connectedToAgentTimestamp"), "connectedToAgentTimestamp"
        )
        disconnected = _maybe_time(_get(d, "disconnectTimestamp"), "disconnectTimestamp")
        initiated = _maybe_time(_get(d, "initiationTimestamp"), "initiationTimestamp")
        _in_order(
            ("initiationTimestamp", initiated),
            ("enqueueTimestamp", enqueued),
            ("connectedToAgentTimestamp", connected),
            ("disconnectTimestamp", disconnected),
        )
        base = {"call_id": call, "queue": queue}
        if callback:
            return _callback_event(
                contact, kind, base, agent, initiated, enqueued, connected, disconnected
            )
        if kind == "QUEUED":
            if queue is None or enqueued is None:
                raise ValueError("QUEUED without queueInfo.queueArn and enqueueTimestamp")
            customer = _get(d, "customerEndpoint", "address")
            return [
                _event(
                    f"{contact}:queued",
                    enqueued,
                    "call.queued",
                    **base,
                    channel=CHANNELS[channel],
                    customer=customer or None,
                )
            ]
        if kind == "CONNECTED_TO_AGENT":
            if queue is None or agent is None or connected is None:
                raise ValueError(
                    "CONNECTED_TO_AGENT without queueInfo.queueArn, agentInfo.agentArn and "
                    "connectedToAgentTimestamp"
                )
            return [
                _event(
                    f"{contact}:answered",
                    connected,
                    "call.answered",
                    **base,
                    agent=agent,
                    wait_s=_seconds(connected, enqueued),
                )
            ]
        if kind == "DISCONNECTED":
            if disconnected is None:
                raise ValueError("DISCONNECTED without disconnectTimestamp")
            if queue is None:
                return "disconnected before reaching a queue (self-service or outbound)"
            if agent is not None and connected is not None:
                return [_event(f"{contact}:ended", disconnected, "call.ended", **base, agent=agent)]
            return [
                _event(
                    f"{contact}:abandoned",
                    disconnected,
                    "call.abandoned",
                    **base,
                    wait_s=_seconds(disconnected, enqueued),
                )
            ]
        if isinstance(kind, str) and kind:
            return f"contact event {kind}: no queue or agent change"
        raise ValueError("detail.eventType is missing")


def _callback_event(
    contact: str,
    kind: Any,
    base: dict[str, Any],
    agent: str | None,
    initiated: datetime | None,
    enqueued: datetime | None,
    connected: datetime | None,
    disconnected: datetime | None,
) -> list[dict[str, Any]] | str:
    """A contact event of a queued callback (initiationMethod CALLBACK)."""
    if kind == "QUEUED":
        at = initiated or enqueued
        if base["queue"] is None or at is None:
            raise ValueError("a callback QUEUED without queueInfo.queueArn and a timestamp")
        return [_event(f"{contact}:callback", at, "callback.requested", **base)]
    if kind == "CONNECTED_TO_AGENT":
        if base["queue"] is None or agent is None or connected is None:
            raise ValueError(
                "a callback CONNECTED_TO_AGENT without queueInfo.queueArn, agentInfo.agentArn "
                "and connectedToAgentTimestamp"
            )
        return [_event(f"{contact}:answered", connected, "callback.connected", **base, agent=agent)]
    if kind == "DISCONNECTED":
        if disconnected is None:
            raise ValueError("DISCONNECTED without disconnectTimestamp")
        if base["queue"] is None:
            return "a callback disconnected before reaching a queue"
        if agent is not None and connected is not None:
            return [_event(f"{contact}:ended", disconnected, "call.ended", **base, agent=agent)]
        return [_event(f"{contact}:failed", disconnected, "callback.failed", **base)]
    if isinstance(kind, str) and kind:
        return f"contact event {kind}: no queue or agent change"
    raise ValueError("detail.eventType is missing")


def _in_order(*times: tuple[str, datetime | None]) -> None:
    known = [(n, t) for n, t in times if t is not None]
    for (n1, t1), (n2, t2) in itertools.pairwise(known):
        if t2 < t1:
            raise ValueError(
                f"{n2} {t2.isoformat()} is before {n1} {t1.isoformat()}: the record contradicts "
                "itself"
            )


def _seconds(later: datetime, earlier: datetime | None) -> float | None:
    return None if earlier is None else (later - earlier).total_seconds()


def _event(key: str, ts: datetime, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": key,
        "ts": ts.isoformat(),
        "type": kind,
        **{k: v for k, v in fields.items() if v is not None},
    }


def _agent_state(
    agent: str, ts: datetime, state: str, reason: str | None, key: str
) -> dict[str, Any]:
    return _event(key, ts, "agent.state", agent=agent, state=state, reason=reason)


def _status(status: dict[str, Any]) -> tuple[str, str | None]:
    kind = str(_get(status, "Type") or "").upper()
    name = _get(status, "Name")
    if kind == "ROUTABLE":
        return "available", None
    if kind == "OFFLINE":
        return "logged_out", None
    if kind == "NOT_ROUTABLE":
        return "away", str(name or "not routable")
    raise ValueError(f"AgentStatus.Type {kind!r} is not ROUTABLE, NOT_ROUTABLE or OFFLINE")


def _contacts(
    agent: str, ts: datetime, prev: dict[str, Any], cur: dict[str, Any]
) -> list[dict[str, Any]]:
    def by_id(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
        contacts = _get(snapshot, "Contacts")
        if not isinstance(contacts, list):
            return {}
        return {
            c["ContactId"]: c
            for c in contacts
            if isinstance(c, dict) and isinstance(c.get("ContactId"), str) and c["ContactId"]
        }

    before, now = by_id(prev), by_id(cur)
    out: list[dict[str, Any]] = []
    for cid, c in now.items():
        state = c.get("State")
        was = before.get(cid, {}).get("State")
        if state == was or _is_callback(c):
            continue
        channel = str(c.get("Channel") or "VOICE").upper()
        if channel not in CHANNELS:
            continue
        base = {
            "call_id": c.get("InitialContactId") or cid,
            "queue": _arn_id(_get(c, "Queue", "ARN")),
            "agent": agent,
        }
        since = _maybe_time(c.get("StateStartTimestamp"), "StateStartTimestamp") or ts
        if state == "CONNECTED" and was != "CONNECTED_ONHOLD":
            at = _maybe_time(c.get("ConnectedToAgentTimestamp"), "ConnectedToAgentTimestamp")
            at = at or since
            queued = _maybe_time(c.get("QueueTimestamp"), "QueueTimestamp")
            out.append(
                _event(f"{cid}:answered", at, "call.answered", **base, wait_s=_seconds(at, queued))
            )
        elif state in ("MISSED", "REJECTED"):
            out.append(_event(f"{cid}:missed:{agent}", since, "call.missed", **base))
        elif state == "ENDED":
            out.append(_event(f"{cid}:ended", since, "call.ended", **base))
    for cid, c in before.items():
        if cid in now or c.get("State") != "ENDED" or _is_callback(c):
            continue
        ended = _maybe_time(c.get("StateStartTimestamp"), "StateStartTimestamp")
        out.append(
            _event(
                f"{cid}:wrapped",
                ts,
                "call.wrapped",
                call_id=c.get("InitialContactId") or cid,
                agent=agent,
                acw_s=_seconds(ts, ended),
            )
        )
    return out


def _is_callback(contact: dict[str, Any]) -> bool:
    # the agent stream's callback contacts lack the caller's contact id: the contact events
    # carry them (module docstring)
    return str(contact.get("InitiationMethod") or "").upper() == "CALLBACK"


def parse(text: str, source: str, *, where: str = "line") -> Iterator[Item]:
    t = Translator(source)
    for record in records(text, where=where):
        yield from t.feed(record)
