"""Twilio TaskRouter event callbacks -> contract events.

TaskRouter POSTs a form to the workspace's EventCallbackUrl for every event: `EventType`,
`AccountSid`, `WorkspaceSid`, `ResourceType`, `ResourceSid`, `Timestamp` (epoch seconds;
`TimestampMs` in milliseconds where sent) and the fields of the task, reservation or worker.

- task-queue.entered -> call.queued (call id: `TaskSid`; queue: `TaskQueueName`; customer: the
  task attributes' `from`; channel: `TaskChannelUniqueName`);
- reservation.accepted -> call.answered by `WorkerSid`;
- reservation.rejected / reservation.timeout -> call.missed;
- task.canceled -> call.abandoned, or overflowed (timeout) when `TaskCanceledReason` names a
  timeout or TTL;
- task.wrapup -> call.ended (the conversation is over, the worker wraps up);
- task.completed -> call.wrapped;
- worker.activity.update -> agent.state from `WorkerActivityName`: Offline -> logged out,
  Available / Idle -> available, any other activity -> away with its name as the reason;
- task.created and the other events make no event of their own.

Task events that do not name the queue or the worker (task.canceled, task.wrapup,
task.completed) take them from what was stored for the task before (`lookup`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ingest.contract import describe, event_adapter
from ingest.sources.base import Item, Raw, Rejected, Skipped

CHANNELS = {"voice": "voice", "chat": "chat", "sms": "chat", "email": "email", "default": "voice"}
AVAILABLE = {"available", "idle", "ready"}
Lookup = Callable[[str], tuple[str | None, str | None]]  # task sid -> (queue, agent)


def _none(_: str) -> tuple[str | None, str | None]:
    return None, None


def _ts(form: Mapping[str, str]) -> datetime:
    ms, s = form.get("TimestampMs", ""), form.get("Timestamp", "")
    try:
        if ms.isdigit():
            return datetime.fromtimestamp(int(ms) / 1000, UTC)
        if s.isdigit():
            return datetime.fromtimestamp(int(s), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"Timestamp {s or ms!r} is not a time callboard can read") from exc
    raise ValueError(f"Timestamp {s!r} is not epoch seconds")


def _customer(form: Mapping[str, str]) -> str | None:
    try:
        attributes = json.loads(form.get("TaskAttributes") or "{}")
    except json.JSONDecodeError:
        return None
    if not isinstance(attributes, dict):
        return None
    value = attributes.get("from") or attributes.get("caller") or attributes.get("customer")
    return str(value) if value else None


def translate(
    form: Mapping[str, str], source: str, *, position: str = "callback", lookup: Lookup = _none
) -> list[Item]:
    """One callback's events (or why it makes none)."""
    raw = "&".join(f"{k}={v}" for k, v in form.items())
    kind = form.get("EventType", "")
    if not kind:
        return [Rejected(position, "EventType is missing: not a TaskRouter event callback", raw)]
    try:
        made = _events(kind, form, lookup)
    except ValueError as exc:
        return [Rejected(position, f"{kind}: {exc}", raw)]
    if isinstance(made, str):
        return [Skipped(position, kind, made, raw, key=f"{form.get('ResourceSid', '')}:{kind}")]
    out: list[Item] = []
    for e in made:
        e["source"] = source
        try:
            out.append(Raw(event_adapter.validate_python(e), raw))
        except ValidationError as exc:
            out.append(Rejected(position, f"{kind}: {describe(exc)}", raw))
    return out


def _events(kind: str, f: Mapping[str, str], lookup: Lookup) -> list[dict[str, Any]] | str:
    def need(key: str) -> str:
        value = (f.get(key) or "").strip()
        if not value:
            raise ValueError(f"{key} is missing")
        return value

    ts = _ts(f)

    def event(key: str, type_: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": key,
            "ts": ts.isoformat(),
            "type": type_,
            **{k: v for k, v in fields.items() if v is not None},
        }

    if kind == "worker.activity.update":
        who, activity = need("WorkerSid"), need("WorkerActivityName")
        name = activity.lower()
        state = "logged_out" if name == "offline" else "available" if name in AVAILABLE else "away"
        return [
            event(
                f"{who}:activity:{int(ts.timestamp() * 1000)}",
                "agent.state",
                agent=who,
                state=state,
                reason=activity if state == "away" else None,
            )
        ]
    if kind.startswith("task") or kind.startswith("reservation"):
        task = need("TaskSid")
    else:
        return f"{kind}: not about a task or a worker's activity"
    known_queue, known_agent = (None, None)
    if not f.get("TaskQueueName") or not f.get("WorkerSid"):
        known_queue, known_agent = lookup(task)
    queue = f.get("TaskQueueName") or f.get("TaskQueueSid") or known_queue
    worker = f.get("WorkerSid") or known_agent
    if kind == "task-queue.entered":
        channel = CHANNELS.get((f.get("TaskChannelUniqueName") or "voice").lower())
        if channel is None:
            return f"a {f.get('TaskChannelUniqueName')} task: callboard counts voice, chat, email"
        return [
            event(
                f"{task}:queued:{need('TaskQueueSid')}",
                "call.queued",
                call_id=task,
                queue=need("TaskQueueName"),
                channel=channel,
                customer=_customer(f),
            )
        ]
    if kind in ("reservation.accepted", "reservation.rejected", "reservation.timeout"):
        if queue is None:
            raise ValueError("TaskQueueName is missing and the task's queue is not known")
        if kind == "reservation.accepted":
            return [
                event(
                    f"{task}:answered",
                    "call.answered",
                    call_id=task,
                    queue=queue,
                    agent=need("WorkerSid"),
                )
            ]
        return [
            event(
                f"{need('ReservationSid')}:missed",
                "call.missed",
                call_id=task,
                queue=queue,
                agent=need("WorkerSid"),
            )
        ]
    if kind == "task.canceled":
        if queue is None:
            return "a task canceled before it entered a queue"
        why = (f.get("TaskCanceledReason") or "").lower()
        if "timeout" in why or "ttl" in why:
            return [
                event(
                    f"{task}:left", "call.overflowed", call_id=task, queue=queue, reason="timeout"
                )
            ]
        return [event(f"{task}:left", "call.abandoned", call_id=task, queue=queue)]
    if kind in ("task.wrapup", "task.completed"):
        if queue is None or worker is None:
            return f"{kind} of a task never answered by a worker here"
        if kind == "task.wrapup":
            return [event(f"{task}:ended", "call.ended", call_id=task, queue=queue, agent=worker)]
        return [event(f"{task}:wrapped", "call.wrapped", call_id=task, agent=worker)]
    return f"{kind}: no queue or agent change"
