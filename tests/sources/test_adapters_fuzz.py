"""The adapters' parsers on arbitrary input: every record ends as an event, a reject with a
reason or a skip with a reason; never an exception (which would be a 500 on the HTTP routes or
a stopped import)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from ingest.sources import amazon_connect, genesys, twilio
from ingest.sources.ami import Translator as AmiTranslator
from ingest.sources.ami import frames
from ingest.sources.base import Position, Raw, Rejected, Skipped
from ingest.sources.freeswitch import Translator as FsTranslator
from ingest.sources.freeswitch import messages

SAMPLES = Path(__file__).parent / "samples"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2025-11-20T08:00:00Z",
            "CONNECTED",
            "ENDED",
            "QUEUED",
            "VOICE",
            "ANSWERED",
            "arn:aws:connect:x:1:instance/i/queue/q",
            "1e400",
            "NaN",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=12), kids, max_size=5)
    ),
    max_leaves=25,
)


def _mutations(sample: Any) -> Any:
    """A documented record with one field replaced by anything."""
    keys = list(sample) if isinstance(sample, dict) else []
    return st.tuples(st.sampled_from(keys or [""]), values).map(
        lambda kv: {**sample, kv[0]: kv[1]} if keys else sample
    )


def _accounted(items: list[Any]) -> None:
    for item in items:
        assert isinstance(item, BaseModel | Raw | Rejected | Skipped | Position), item
        if isinstance(item, Rejected | Skipped):
            assert item.reason


AGENT = [
    json.loads(x)
    for x in (SAMPLES / "amazon_connect" / "agent_events.jsonl").read_text().splitlines()
]
CONTACT = [
    json.loads(x)
    for x in (SAMPLES / "amazon_connect" / "contact_events.jsonl").read_text().splitlines()
]
NOTES = [
    json.loads(x) for x in (SAMPLES / "genesys" / "notifications.jsonl").read_text().splitlines()
]


@FUZZ
@given(
    st.one_of(
        values,
        st.sampled_from(AGENT + CONTACT).flatmap(_mutations),
        st.sampled_from(AGENT).flatmap(
            lambda a: st.builds(lambda snap: {**a, "CurrentAgentSnapshot": snap}, values)
        ),
    )
)
def test_amazon_connect_never_raises(record: Any) -> None:
    _accounted(list(amazon_connect.parse(json.dumps(record), "x")))


@FUZZ
@given(
    st.one_of(
        values,
        st.sampled_from(NOTES).flatmap(_mutations),
        st.sampled_from(NOTES).flatmap(
            lambda n: st.builds(lambda body: {**n, "eventBody": body}, values)
        ),
    )
)
def test_genesys_never_raises(record: Any) -> None:
    _accounted(list(genesys.parse(json.dumps(record), "x")))


@FUZZ
@given(st.text(max_size=300))
def test_json_streams_of_any_text_never_raise(text: str) -> None:
    _accounted(list(amazon_connect.parse(text, "x")))
    _accounted(list(genesys.parse(text, "x")))


FORM_KEYS = [
    "EventType",
    "TaskSid",
    "TaskQueueName",
    "TaskQueueSid",
    "WorkerSid",
    "Timestamp",
    "TimestampMs",
    "ReservationSid",
    "WorkerActivityName",
    "TaskAttributes",
    "TaskChannelUniqueName",
    "TaskCanceledReason",
]


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(FORM_KEYS),
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(
                [
                    "task-queue.entered",
                    "reservation.accepted",
                    "task.canceled",
                    "task.wrapup",
                    "task.completed",
                    "worker.activity.update",
                    "1763625600",
                    "99999999999999999999",
                ]
            ),
        ),
    )
)
def test_twilio_never_raises(form: dict[str, str]) -> None:
    _accounted(twilio.translate(form, "x", lookup=lambda task: ("q", "w")))


KV = st.tuples(
    st.sampled_from(
        [
            "Event",
            "Uniqueid",
            "Queue",
            "MemberName",
            "Timestamp",
            "HoldTime",
            "TalkTime",
            "RingTime",
            "Reason",
            "Paused",
            "Position",
            "Variable",
            "Value",
            "Event-Name",
            "Event-Subclass",
            "CC-Action",
            "CC-Queue",
            "CC-Agent",
            "CC-Member-UUID",
            "CC-Member-Session-UUID",
            "CC-Member-Joined-Time",
            "CC-Agent-Answered-Time",
            "CC-Bridge-Terminated-Time",
            "CC-Cause",
            "CC-Cancel-Reason",
            "CC-Agent-Status",
            "Event-Date-Timestamp",
            "CC-Member-Leaving-Time",
        ]
    ),
    st.one_of(
        st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=12),
        st.sampled_from(
            [
                "AgentConnect",
                "AgentComplete",
                "QueueCallerAbandon",
                "QueueCallerJoin",
                "QueueMemberPause",
                "QueueStatusComplete",
                "QueueMember",
                "callcenter::info",
                "member-queue-end",
                "bridge-agent-start",
                "agent-status-change",
                "Cancel",
                "1763625600.5",
                "1e300",
                "99999999999999999999",
                "transfer",
            ]
        ),
    ),
)


@FUZZ
@given(st.lists(st.lists(KV, min_size=1, max_size=8), max_size=6))
def test_ami_and_freeswitch_never_raise(blocks: list[list[tuple[str, str]]]) -> None:
    text = "".join("".join(f"{k}: {v}\n" for k, v in b) + "\n" for b in blocks)
    ami = AmiTranslator("x")
    out: list[Any] = []
    for f in frames(text.splitlines(True)):
        out += [f] if isinstance(f, Rejected) else ami.feed(f)
    out += ami.flush()
    _accounted(out)
    fs = FsTranslator("x")
    _accounted([i for m in messages(text.splitlines(True)) for i in fs.feed(m)])
