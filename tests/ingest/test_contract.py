"""Every way an item can be refused, each with a message naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.contract import validate_items

OK: dict[str, Any] = {
    "id": "e1",
    "ts": "2026-11-20T08:00:00+01:00",
    "type": "call.answered",
    "call_id": "c1",
    "queue": "billing",
    "agent": "a1",
}


def rejected(item: Any) -> str:
    valid, errors = validate_items([item])
    assert not valid, f"accepted: {item}"
    return errors[0].message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ts": "2026-11-20T08:00:00"}, "ts: must carry a UTC offset"),
        ({"ts": "20/11/2026 08:00"}, "ts: must be an RFC 3339 timestamp"),
        ({"ts": 1763625600}, "ts: must be an RFC 3339 timestamp"),
        ({"ts": "1763625600"}, "ts: must be an RFC 3339 timestamp"),
        ({"ts": "2026-13-45T08:00:00Z"}, "ts: "),
        ({"ts": "1969-12-31T23:59:59Z"}, "ts: is out of range"),
        ({"type": "call.teleported"}, "unknown type 'call.teleported'"),
        ({"type": None}, "type: "),
        ({"wait_s": -1}, "wait_s: must be a finite number of seconds >= 0"),
        ({"wait_s": "12"}, "wait_s: must be a number"),
        ({"wait_s": True}, "wait_s: must be a number"),
        ({"wait_s": 10**9}, "wait_s: must be at most"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"id": ""}, "id: String should have at least 1 character"),
        ({"id": "x" * 129}, "id: String should have at most 128 characters"),
        ({"id": "a\x00b"}, "id: must not contain the NUL character"),
        ({"source": "s" * 65}, "source: String should have at most 64 characters"),
        ({"agent": None}, "agent: "),
        ({"queue": 7}, "queue: Input should be a valid string"),
    ],
)
def test_bad_field_is_named(change: dict[str, Any], expected: str) -> None:
    assert expected in rejected({**OK, **change})


@pytest.mark.parametrize("missing", ["id", "ts", "call_id", "queue", "agent"])
def test_required_fields(missing: str) -> None:
    item = {k: v for k, v in OK.items() if k != missing}
    assert f"{missing}: Field required" in rejected(item)


def test_type_specific_rules() -> None:
    base = {"id": "x", "ts": "2026-11-20T08:00:00Z", "call_id": "c", "queue": "q", "agent": "a"}
    assert "exactly one of to_queue" in rejected({**base, "type": "call.transferred"})
    assert "exactly one of to_queue" in rejected(
        {**base, "type": "call.transferred", "to_queue": "b", "to_agent": "z"}
    )
    survey = {"id": "s", "ts": "2026-11-20T08:00:00Z", "type": "survey.completed", "call_id": "c"}
    assert "at least one of csat, nps, resolved" in rejected(survey)
    assert "csat: Input should be less than or equal to 5" in rejected({**survey, "csat": 6})
    assert "nps: Input should be a valid integer" in rejected({**survey, "nps": 7.5})
    assert "resolved: Input should be a valid boolean" in rejected({**survey, "resolved": "yes"})
    qa = {**base, "type": "qa.scored", "score": 101, "evaluator": "e"}
    assert "score: Input should be less than or equal to 100" in rejected(qa)
    state = {"id": "s", "ts": "2026-11-20T08:00:00Z", "type": "agent.state", "agent": "a"}
    assert "state: Field required" in rejected(state)
    assert "state: Input should be" in rejected({**state, "state": "sleeping"})
    assert "channel: Input should be" in rejected({**base, "type": "call.queued", "channel": "fax"})
    assert "event: must be a JSON object" in rejected(["not", "an", "object"])


def test_defaults_are_applied() -> None:
    [(_, ev)], _ = validate_items([{**OK, "type": "call.queued"}])
    assert (ev.source, ev.channel, ev.priority) == ("api", "voice", 0)
    [(_, ev)], _ = validate_items([{**OK, "type": "call.ended"}])
    assert (ev.hold_s, ev.talk_s) == (None, None)
