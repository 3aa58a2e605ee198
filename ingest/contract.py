"""The event contract (EVENTS.md) as pydantic models.

Strict where a mistake would be silent (unknown fields and types, timestamps without an offset,
negative, non-finite or absurd durations, numbers sent as strings), lenient where the source
simply lacks information (optional durations, default channel and priority).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    model_validator,
)

# --- field types -------------------------------------------------------------------------------

TS_MIN = datetime(1970, 1, 1, tzinfo=UTC)
TS_MAX = datetime(2200, 1, 1, tzinfo=UTC)
# No wait, ring, talk, hold or wrap-up lasts a day: a longer one is a unit error (ms sent as s)
# or a broken clock, and would only distort every figure it touches (EVENTS.md, Bounds).
MAX_DURATION_S = 86400


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; say so instead of failing at insert time.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def _rfc3339_string(value: Any) -> Any:
    # pydantic alone would also take epoch numbers ("1700000000"): not the contract.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 timestamp string with an offset")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


def _to_utc(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc
    if not TS_MIN <= utc < TS_MAX:
        raise ValueError(f"is out of range ({TS_MIN:%Y} to {TS_MAX:%Y})")
    return utc


def _duration(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number of seconds >= 0")
    if value > MAX_DURATION_S:
        raise ValueError(
            f"must be at most {MAX_DURATION_S} seconds (a day); longer is a unit error "
            "(milliseconds sent as seconds?)"
        )
    return float(value)


Name = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_no_nul)]
Text = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_no_nul)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(_rfc3339_string),
    Field(strict=False),
    AfterValidator(lambda v: _require_offset(v)),
    AfterValidator(_to_utc),
]
Seconds = Annotated[float, BeforeValidator(_number), AfterValidator(_duration)]


def _require_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset (e.g. 2026-11-20T08:00:00Z or +01:00)")
    return value


Channel = Literal["voice", "chat", "email", "callback"]
AgentStateName = Literal["logged_out", "available", "on_call", "wrap_up", "away"]


# --- the envelope and the types ----------------------------------------------------------------


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: Name
    source: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_nul)] = "api"
    ts: Timestamp
    call_id: Name | None = None
    queue: Name | None = None
    agent: Name | None = None


class _CallEvent(_Event):
    call_id: Name
    queue: Name


class CallQueued(_CallEvent):
    type: Literal["call.queued"]
    channel: Channel = "voice"
    customer: Text | None = None
    priority: Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)] = 0


class CallMissed(_CallEvent):
    type: Literal["call.missed"]
    agent: Name
    ring_s: Seconds | None = None


class CallAnswered(_CallEvent):
    type: Literal["call.answered"]
    agent: Name
    wait_s: Seconds | None = None


class CallAbandoned(_CallEvent):
    type: Literal["call.abandoned"]
    wait_s: Seconds | None = None


class CallOverflowed(_CallEvent):
    type: Literal["call.overflowed"]
    reason: Literal["timeout", "full", "empty", "key", "other"] = "other"
    to_queue: Name | None = None
    wait_s: Seconds | None = None


class CallTransferred(_CallEvent):
    type: Literal["call.transferred"]
    agent: Name
    to_queue: Name | None = None
    to_agent: Name | None = None
    to_external: Text | None = None

    @model_validator(mode="after")
    def _one_target(self) -> CallTransferred:
        targets = [t for t in (self.to_queue, self.to_agent, self.to_external) if t is not None]
        if len(targets) != 1:
            raise ValueError("exactly one of to_queue, to_agent, to_external is required")
        return self


class CallEnded(_CallEvent):
    type: Literal["call.ended"]
    agent: Name
    hold_s: Seconds | None = None  # absent = unknown (queue_log has no hold), not 0
    talk_s: Seconds | None = None
    ended_by: Literal["agent", "customer", "system"] | None = None


class CallWrapped(_Event):
    type: Literal["call.wrapped"]
    call_id: Name
    agent: Name
    acw_s: Seconds | None = None


# --- callbacks: the customer leaves the line and keeps their place (EVENTS.md, Callbacks) ----


class CallbackRequested(_CallEvent):
    """Closes the contact's wait on the line (not an abandon) and opens its callback, which
    waits in the same queue from this moment."""

    type: Literal["callback.requested"]
    wait_s: Seconds | None = None  # on the line before choosing; default = ts - queued ts
    customer: Text | None = None


class CallbackScheduled(_CallEvent):
    type: Literal["callback.scheduled"]
    at: Timestamp  # when the customer asked to be called


class CallbackAttempted(_CallEvent):
    type: Literal["callback.attempted"]
    agent: Name | None = None


class CallbackConnected(_CallEvent):
    """The customer was reached: the callback is answered (handled like a call from here)."""

    type: Literal["callback.connected"]
    agent: Name


class CallbackFailed(_CallEvent):
    """The callback ended without reaching the customer (no more attempts)."""

    type: Literal["callback.failed"]
    reason: Literal["no_answer", "busy", "invalid_number", "cancelled", "expired", "other"] = (
        "other"
    )


class AgentStateChanged(_Event):
    type: Literal["agent.state"]
    agent: Name
    state: AgentStateName
    reason: Text | None = None
    queues: Annotated[list[Name], Field(max_length=1000)] | None = None


class SurveyCompleted(_Event):
    type: Literal["survey.completed"]
    call_id: Name
    csat: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    nps: Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    resolved: StrictBool | None = None

    @model_validator(mode="after")
    def _some_answer(self) -> SurveyCompleted:
        if self.csat is None and self.nps is None and self.resolved is None:
            raise ValueError("at least one of csat, nps, resolved is required")
        return self


class QaScored(_Event):
    type: Literal["qa.scored"]
    call_id: Name
    agent: Name
    score: Annotated[float, BeforeValidator(_number), Field(ge=0, le=100)]
    evaluator: Name
    form: Text | None = None


Event = Annotated[
    CallQueued
    | CallMissed
    | CallAnswered
    | CallAbandoned
    | CallOverflowed
    | CallTransferred
    | CallEnded
    | CallWrapped
    | CallbackRequested
    | CallbackScheduled
    | CallbackAttempted
    | CallbackConnected
    | CallbackFailed
    | AgentStateChanged
    | SurveyCompleted
    | QaScored,
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[str, ...] = (
    "call.queued",
    "call.missed",
    "call.answered",
    "call.abandoned",
    "call.overflowed",
    "call.transferred",
    "call.ended",
    "call.wrapped",
    "agent.state",
    "survey.completed",
    "qa.scored",
    "callback.requested",
    "callback.scheduled",
    "callback.attempted",
    "callback.connected",
    "callback.failed",
)
ENVELOPE_FIELDS = frozenset({"id", "source", "ts", "type", "call_id", "queue", "agent"})

# Lifecycle order for events of one instant (METRICS.md): the order they are applied in,
# whatever order they were delivered in. An explicit agent.state wins from its ts on, so last.
LIFECYCLE_RANK: dict[str, int] = {
    "call.queued": 0,
    "call.missed": 1,
    "call.answered": 2,
    "call.abandoned": 2,
    "call.overflowed": 2,
    "callback.requested": 2,  # leaves the line; its callback waits from the same instant
    "callback.scheduled": 3,  # these follow the request of the same instant
    "callback.attempted": 3,
    "callback.connected": 3,
    "callback.failed": 3,
    "call.transferred": 3,
    "call.ended": 4,
    "call.wrapped": 5,
    "survey.completed": 6,
    "qa.scored": 6,
    "agent.state": 7,
}

event_adapter: TypeAdapter[Event] = TypeAdapter(Event)


# --- validation with per-item errors -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    message: str


def describe(exc: ValidationError) -> str:
    """One line naming each failing field: `ts: must carry a UTC offset; wait_s: ...`."""
    parts = []
    for err in exc.errors(include_url=False):
        # Drop the union tag pydantic puts first in the location (`call.queued.wait_s`).
        loc = [str(p) for p in err["loc"] if p not in EVENT_TYPES]
        field = ".".join(loc) or "event"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not in the event contract)"
        elif err["type"] == "union_tag_invalid":
            field = "type"
            msg = f"unknown type {err['input'].get('type')!r}; expected one of: " + ", ".join(
                EVENT_TYPES
            )
        elif err["type"] == "union_tag_not_found":
            field, msg = "type", "is required"
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def event_or_error(item: Any) -> tuple[Any, str | None]:
    """(the contract model, None), or (None, what is wrong) for one item."""
    if not isinstance(item, Mapping):
        return None, "event: must be a JSON object"
    try:
        return event_adapter.validate_python(item), None
    except ValidationError as exc:
        return None, describe(exc)


def validate_items(items: Iterable[Any]) -> tuple[list[tuple[int, Any]], list[ItemError]]:
    """Validate every item; return (index, event) for the valid ones and an error per bad one."""
    valid: list[tuple[int, Any]] = []
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        event, error = event_or_error(item)
        if error is None:
            valid.append((index, event))
        else:
            errors.append(ItemError(index, error))
    return valid, errors


def extras(event: _Event) -> dict[str, Any]:
    """The type's own fields (what `events.data` stores), without the envelope."""
    # A model's fields are its __dict__ (frozen, no extras): read it once, not by getattr.
    return {
        name: value
        for name, value in event.__dict__.items()
        if value is not None and name not in ENVELOPE_FIELDS
    }
