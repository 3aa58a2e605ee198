"""Genesys Cloud notifications -> contract events.

A notification is `{"topicName": ..., "eventBody": {...}, "metadata": {...}}`, as the
notifications websocket delivers it (a file holds them as JSON lines, back to back, or in a JSON
array). Times in detail events are `eventTime`, epoch milliseconds.

- `v2.detail.events.conversation.{id}.acd.start` (AcdStartEvent) -> call.queued: call id the
  conversation id, queue `queueId`, customer `ani`, channel from `mediaType`;
- `...acd.end` (AcdEndEvent) by `acdOutcome`: ANSWERED -> answered by `answeredUserId`,
  ABANDON -> abandoned, FLOW_OUT -> overflowed (the call left the queue through the flow);
- `...acw` (AfterCallWorkEvent, sent when the agent finishes wrap-up): the end of the
  conversation at `eventTime - wrapupDurationMs` and the end of after-call work at `eventTime`;
- `...user.end` (UserEndEvent), where subscribed: the end of the agent's part, with the talk
  time from `connectedDurationMs`; it and the acw-derived end share one id (stored once);
- `v2.users.{id}.activity`: the presence's `systemPresence`: OFFLINE -> logged out, AVAILABLE /
  ON_QUEUE / IDLE -> available, BREAK / MEAL / MEETING / TRAINING / AWAY / BUSY -> away with
  that reason; `activeQueueIds` become the agent's queues;
- a **callback** (`mediaType` CALLBACK: Genesys Cloud's in-queue callback, a callback
  participant of the caller's own conversation): its acd.start -> callback.requested (the
  caller's wait on the line ends there; the voice leg's acd.end that follows is not an
  abandon), its acd.end ANSWERED -> callback.connected, ABANDON or FLOW_OUT -> callback.failed
  (the detail events carry no dialing attempts: `attempts_per_callback` stays no data);
- `channel.metadata` (the websocket's heartbeat) and other topics make no event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ingest.contract import describe, event_adapter
from ingest.sources.amazon_connect import Record, records
from ingest.sources.base import Item, Raw, Rejected, Skipped
from ingest.sources.times import aware_time

DETAIL = re.compile(
    r"^v2\.detail\.events\.conversation\.([^.]+)\.(acd\.start|acd\.end|acw|user\.end)$"
)
ACTIVITY = re.compile(r"^v2\.users\.([^.]+)\.activity$")
CHANNELS = {
    "VOICE": "voice",
    "CALLBACK": "callback",
    "CHAT": "chat",
    "MESSAGE": "chat",
    "EMAIL": "email",
}
PRESENCE = {
    "OFFLINE": ("logged_out", None),
    "AVAILABLE": ("available", None),
    "ON_QUEUE": ("available", None),
    "IDLE": ("available", None),
    "BREAK": ("away", "break"),
    "MEAL": ("away", "lunch"),
    "MEETING": ("away", "meeting"),
    "TRAINING": ("away", "training"),
    "AWAY": ("away", "away"),
    "BUSY": ("away", "busy"),
}


def _ms(value: Any, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} {value!r} is not epoch milliseconds")
    return _from_epoch(value / 1000)


def _from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"{seconds!r} is not a time callboard can read") from exc


def translate(record: Record | Rejected, source: str) -> list[Item]:
    if isinstance(record, Rejected):
        return [record]
    v = record.value
    if not isinstance(v, dict) or not isinstance(v.get("topicName"), str):
        return [Rejected(record.position, "not a notification: no topicName", record.raw)]
    topic = v["topicName"]
    body = v.get("eventBody")
    if topic == "channel.metadata":
        return [Skipped(record.position, topic, "the websocket's heartbeat", record.raw)]
    if not isinstance(body, dict):
        return [Rejected(record.position, f"{topic}: eventBody must be an object", record.raw)]
    try:
        if (m := DETAIL.match(topic)) is not None:
            made = _detail(m.group(1), m.group(2), body)
        elif (m := ACTIVITY.match(topic)) is not None:
            made = _activity(m.group(1), body)
        else:
            return [
                Skipped(
                    record.position,
                    topic.split(".")[1] if "." in topic else topic,
                    f"topic {topic} carries no queue or agent state",
                    record.raw,
                )
            ]
    except ValueError as exc:
        return [Rejected(record.position, f"{topic}: {exc}", record.raw)]
    if isinstance(made, str):
        return [Skipped(record.position, topic.rsplit(".", 2)[-1], made, record.raw)]
    out: list[Item] = []
    for e in made:
        e["source"] = source
        try:
            out.append(Raw(event_adapter.validate_python(e), record.raw))
        except ValidationError as exc:
            out.append(Rejected(record.position, f"{topic}: {describe(exc)}", record.raw))
    return out


def _event(key: str, ts: datetime, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": key,
        "ts": ts.isoformat(),
        "type": kind,
        **{k: v for k, v in fields.items() if v is not None},
    }


def _detail(conversation: str, kind: str, b: dict[str, Any]) -> list[dict[str, Any]] | str:
    if b.get("conversationId") not in (None, conversation):
        raise ValueError(f"eventBody.conversationId {b['conversationId']!r} is not the topic's")
    ts = _ms(b.get("eventTime"), "eventTime")
    media = str(b.get("mediaType") or "VOICE").upper()
    if media not in CHANNELS:
        return f"a {media} conversation: callboard counts voice, callback, chat and email"
    queue = b.get("queueId")
    if not isinstance(queue, str) or not queue:
        return f"{kind} without a queue (not an ACD conversation)"
    key = f"{conversation}:{queue}"
    base = {"call_id": conversation, "queue": queue}
    if media == "CALLBACK" and kind in ("acd.start", "acd.end"):
        return _callback(key, kind, ts, base, b)
    if kind == "acd.start":
        return [
            _event(
                f"{key}:queued",
                ts,
                "call.queued",
                **base,
                channel=CHANNELS[media],
                customer=b.get("ani") or None,
            )
        ]
    if kind == "acd.end":
        outcome = str(b.get("acdOutcome") or "")
        wait = b.get("connectedDurationMs")
        wait_s = (
            wait / 1000 if isinstance(wait, int | float) and not isinstance(wait, bool) else None
        )
        if outcome == "ANSWERED":
            agent = b.get("answeredUserId")
            if not agent:
                raise ValueError("acdOutcome ANSWERED without answeredUserId")
            return [
                _event(f"{key}:answered", ts, "call.answered", **base, agent=agent, wait_s=wait_s)
            ]
        if outcome == "ABANDON":
            return [_event(f"{key}:left", ts, "call.abandoned", **base, wait_s=wait_s)]
        if outcome == "FLOW_OUT":
            return [
                _event(f"{key}:left", ts, "call.overflowed", **base, reason="other", wait_s=wait_s)
            ]
        raise ValueError(f"acdOutcome {outcome!r} is not ANSWERED, ABANDON or FLOW_OUT")
    agent = b.get("userId")
    if not agent:
        raise ValueError(f"{kind} without userId")
    if kind == "user.end":
        talk = b.get("connectedDurationMs")
        return [
            _event(
                f"{key}:ended",
                ts,
                "call.ended",
                **base,
                agent=agent,
                talk_s=talk / 1000 if isinstance(talk, int | float) else None,
            )
        ]
    acw = b.get("wrapupDurationMs")
    if isinstance(acw, bool) or not isinstance(acw, int | float) or acw < 0:
        raise ValueError(f"wrapupDurationMs {acw!r} is not a duration in milliseconds")
    ended = _from_epoch((b["eventTime"] - acw) / 1000)
    return [
        _event(f"{key}:ended", ended, "call.ended", **base, agent=agent),
        _event(
            f"{key}:wrapped",
            ts,
            "call.wrapped",
            call_id=conversation,
            agent=agent,
            acw_s=acw / 1000,
        ),
    ]


def _callback(
    key: str, kind: str, ts: datetime, base: dict[str, Any], b: dict[str, Any]
) -> list[dict[str, Any]]:
    if kind == "acd.start":
        return [
            _event(
                f"{key}:callback", ts, "callback.requested", **base, customer=b.get("ani") or None
            )
        ]
    outcome = str(b.get("acdOutcome") or "")
    if outcome == "ANSWERED":
        agent = b.get("answeredUserId")
        if not agent:
            raise ValueError("acdOutcome ANSWERED without answeredUserId")
        return [_event(f"{key}:answered", ts, "callback.connected", **base, agent=agent)]
    if outcome in ("ABANDON", "FLOW_OUT"):
        return [_event(f"{key}:left", ts, "callback.failed", **base)]
    raise ValueError(f"acdOutcome {outcome!r} is not ANSWERED, ABANDON or FLOW_OUT")


def _activity(user: str, b: dict[str, Any]) -> list[dict[str, Any]] | str:
    presence = b.get("presence")
    presence = presence if isinstance(presence, dict) else {}
    definition = presence.get("presenceDefinition")
    definition = definition if isinstance(definition, dict) else {}
    system = str(definition.get("systemPresence") or "").upper()
    if not system:
        return "no presence in this activity notification"
    if system not in PRESENCE:
        raise ValueError(f"systemPresence {system!r} is not one callboard knows")
    ts = aware_time(presence.get("modifiedDate"), "presence.modifiedDate")
    state, reason = PRESENCE[system]
    queues = b.get("activeQueueIds")
    return [
        _event(
            f"{user}:presence:{ts.isoformat()}",
            ts,
            "agent.state",
            agent=user,
            state=state,
            reason=reason,
            queues=queues if isinstance(queues, list) else None,
        )
    ]


def parse(text: str, source: str, *, where: str = "line") -> Iterator[Item]:
    for record in records(text, where=where):
        yield from translate(record, source)
