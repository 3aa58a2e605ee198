"""Hand-checked lifecycles: what one contact's or one agent's events become."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.derive import Stored, agent_intervals, contact_rows

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_n = 0


def ev(
    kind: str,
    sec: float,
    *,
    call: str | None = "c1",
    queue: str | None = None,
    agent: str | None = None,
    source: str = "s",
    **data: Any,
) -> Stored:
    global _n
    _n += 1
    return Stored(source, f"e{_n:04d}", T0 + timedelta(seconds=sec), kind, call, queue, agent, data)


def test_answered_contact_with_defaults_computed_from_timestamps() -> None:
    [seg], fb = contact_rows(
        "c1",
        [
            ev("call.queued", 0, queue="q", customer="k"),
            ev("call.answered", 12, queue="q", agent="a"),
            ev("call.ended", 100, queue="q", agent="a", hold_s=8),
            ev("call.wrapped", 130, agent="a"),
        ],
    )
    assert (seg.outcome, seg.wait_s, seg.talk_s, seg.hold_s, seg.acw_s) == (
        "answered",
        12.0,
        80.0,
        8,
        30.0,
    )
    assert seg.left_at == T0 + timedelta(seconds=12)
    assert seg.handled_at == T0 + timedelta(seconds=130)
    assert seg.is_first and seg.is_last and fb == []


def test_the_sources_wait_wins_over_the_timestamps() -> None:
    # Asterisk's ABANDON wait can differ by a second from the timestamps (MalariaPBX sample).
    [seg], _ = contact_rows(
        "c1", [ev("call.queued", 0, queue="q"), ev("call.abandoned", 12, queue="q", wait_s=11)]
    )
    assert (seg.outcome, seg.wait_s) == ("abandoned", 11)


def test_transfer_to_another_queue_in_one_second_makes_two_segments() -> None:
    events = [
        ev("call.queued", 0, queue="sales"),
        ev("call.answered", 5, queue="sales", agent="a"),
        # all in the same second, delivered in the "wrong" order
        ev("call.queued", 60, queue="billing"),
        ev("call.wrapped", 60, agent="a", acw_s=0),
        ev("call.ended", 60, queue="sales", agent="a", ended_by="agent"),
        ev("call.transferred", 60, queue="sales", agent="a", to_queue="billing"),
        ev("call.answered", 70, queue="billing", agent="b"),
        ev("call.ended", 190, queue="billing", agent="b"),
        ev("survey.completed", 400, csat=5),
    ]
    (s0, s1), [fb] = contact_rows("c1", events)
    assert (s0.queue, s0.outcome, s0.transferred, s0.transfer_to_queue, s0.talk_s) == (
        "sales",
        "answered",
        True,
        "billing",
        55.0,
    )
    assert (s1.queue, s1.outcome, s1.wait_s, s1.agent, s1.talk_s) == (
        "billing",
        "answered",
        10.0,
        "b",
        120.0,
    )
    assert s0.is_first and not s0.is_last and s1.is_last and not s1.is_first
    # the contact was answered once: the transfer's second answer does not count again
    assert (s0.contact_outcome, s0.contact_wait_s, s1.contact_outcome) == (True, 5.0, False)
    assert s0.acw_s == 0 and s1.acw_s is None
    # the survey belongs to the last answered segment
    assert (fb.queue, fb.agent, fb.csat) == ("billing", "b", 5)


def test_overflow_then_answered_elsewhere() -> None:
    (s0, s1), _ = contact_rows(
        "c1",
        [
            ev("call.queued", 0, queue="q1"),
            ev("call.overflowed", 30, queue="q1", reason="timeout", to_queue="q2"),
            ev("call.queued", 30, queue="q2"),
            ev("call.missed", 45, queue="q2", agent="x", ring_s=15),
            ev("call.answered", 50, queue="q2", agent="y"),
        ],
    )
    assert (s0.outcome, s0.overflow_reason, s0.overflow_to, s0.wait_s) == (
        "overflowed",
        "timeout",
        "q2",
        30.0,
    )
    assert (s1.outcome, s1.wait_s, s1.missed) == ("answered", 20.0, 1)
    # for the center it is one contact, answered after waiting 30 + 20 s in two queues
    assert (s0.contact_outcome, s1.contact_outcome, s1.contact_wait_s) == (False, True, 50.0)


def test_a_call_cut_off_at_the_end_of_the_data_stays_waiting() -> None:
    [seg], _ = contact_rows("c1", [ev("call.queued", 0, queue="q")])
    assert seg.outcome is None and seg.left_at is None and seg.wait_s is None
    assert seg.contact_outcome and seg.contact_wait_s is None


def test_unknown_hold_stays_unknown() -> None:
    [seg], _ = contact_rows(
        "c1",
        [
            ev("call.queued", 0, queue="q"),
            ev("call.answered", 2, queue="q", agent="a"),
            ev("call.ended", 62, queue="q", agent="a"),
        ],
    )
    assert (seg.hold_s, seg.talk_s, seg.acw_s) == (None, 60.0, None)


def test_a_call_cut_off_at_the_start_counts_as_handled_not_as_answered() -> None:
    [seg], _ = contact_rows("c1", [ev("call.ended", 50, queue="q", agent="a", talk_s=42)])
    assert seg.outcome == "answered" and seg.left_at is None and seg.queued_at is None
    assert seg.talk_s == 42 and seg.handled_at == T0 + timedelta(seconds=50)
    assert seg.notes and "before the data" in seg.notes[0]


def test_a_conflicting_second_outcome_is_noted_not_counted() -> None:
    [seg], _ = contact_rows(
        "c1",
        [
            ev("call.queued", 0, queue="q"),
            ev("call.answered", 10, queue="q", agent="a"),
            ev("call.abandoned", 11, queue="q"),
        ],
    )
    assert seg.outcome == "answered"
    assert seg.notes and "call.abandoned" in seg.notes[0]


def test_qa_belongs_to_the_evaluated_agent() -> None:
    events = [
        ev("call.queued", 0, queue="q"),
        ev("call.answered", 5, queue="q", agent="a"),
        ev("call.transferred", 60, queue="q", agent="a", to_agent="b"),
        ev("call.ended", 60, queue="q", agent="a"),
        ev("qa.scored", 999, agent="a", score=80, evaluator="e"),
    ]
    _, [fb] = contact_rows("c1", events)
    assert (fb.kind, fb.agent, fb.queue, fb.score) == ("qa", "a", "q", 80)


def test_agent_states_follow_calls_and_explicit_states_win_in_the_same_second() -> None:
    out = agent_intervals(
        "a",
        [
            ev("agent.state", 0, call=None, agent="a", state="available", queues=["q"]),
            ev("call.answered", 10, queue="q", agent="a"),
            ev("call.ended", 70, queue="q", agent="a"),
            # wrap-up done and a break taken in the same second: the break wins
            ev("agent.state", 90, call=None, agent="a", state="away", reason="break"),
            ev("call.wrapped", 90, agent="a"),
        ],
    )
    assert [(i.state, i.reason, (i.started_at - T0).seconds) for i in out] == [
        ("available", None, 0),
        ("on_call", None, 10),
        ("wrap_up", None, 70),
        ("away", "break", 90),
    ]
    assert out[-1].ended_at is None and all(i.queues == ["q"] for i in out)


def test_repeated_states_do_not_split_an_interval() -> None:
    # PAUSEALL is followed by one PAUSE per queue: one break, not three.
    out = agent_intervals(
        "a",
        [
            ev("agent.state", 0, call=None, agent="a", state="away", reason="break"),
            ev("agent.state", 0, call=None, agent="a", state="away", reason="break"),
            ev("agent.state", 1, call=None, agent="a", state="away", reason="break"),
            ev("agent.state", 300, call=None, agent="a", state="available"),
        ],
    )
    assert [(i.state, (i.started_at - T0).seconds) for i in out] == [
        ("away", 0),
        ("available", 300),
    ]
    assert out[0].ended_at == T0 + timedelta(seconds=300)


def test_a_different_away_reason_is_a_new_interval() -> None:
    out = agent_intervals(
        "a",
        [
            ev("agent.state", 0, call=None, agent="a", state="away", reason="break"),
            ev("agent.state", 60, call=None, agent="a", state="away", reason="lunch"),
        ],
    )
    assert [i.reason for i in out] == ["break", "lunch"]
