"""Agent states from queue_log as a real Asterisk 22 writes them: each pattern of the real run
(see test_real_asterisk.py) written as a small log of our own."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.sources.normalize import Normalizer
from ingest.sources.queue_log_import import import_queue_log

T = 1763625600  # 2025-11-20T08:00:00Z


def _import(pg: psycopg.Connection[Any], text: str, tmp_path: Path, **kw: Any) -> Any:
    path = tmp_path / "queue_log"
    path.write_text(text)
    kw.setdefault("normalizer", Normalizer())
    return import_queue_log(pg, path, source="pbx", **kw)


def timeline(pg: psycopg.Connection[Any], agent: str) -> list[tuple[int, str, str | None]]:
    rows = pg.execute(
        "SELECT extract(epoch FROM started_at)::bigint - %s, state, reason FROM agent_states"
        " WHERE agent = %s ORDER BY started_at",
        (T, agent),
    ).fetchall()
    out: list[tuple[int, str, str | None]] = []
    for r in rows:  # intervals split by a change of queues only: one state here
        if not out or out[-1][1:] != tuple(r[1:]):
            out.append((r[0], r[1], r[2]))
    return out


def call(t: int, uid: str, queue: str, agent: str, talk: int, verb: str = "COMPLETEAGENT") -> str:
    return (
        f"{t}|{uid}|{queue}|NONE|ENTERQUEUE||+4930555{uid[-4:]}|1\n"
        f"{t + 2}|{uid}|{queue}|{agent}|CONNECT|2|{uid}9|2\n"
        f"{t + 2 + talk}|{uid}|{queue}|{agent}|{verb}|2|{talk}|1\n"
    )


def test_a_pause_during_a_call_starts_when_the_call_ends_and_is_never_wrap_up(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    # AMI QueuePause without a queue: PAUSEALL, then one PAUSE per queue, while talking
    log = (
        f"{T}|CLI|billing|carol|ADDMEMBER|\n"
        f"{T}|CLI|tech|carol|ADDMEMBER|\n"
        + call(T + 10, "c1.0001", "billing", "carol", 60).splitlines(keepends=True)[0]
        + call(T + 10, "c1.0001", "billing", "carol", 60).splitlines(keepends=True)[1]
        + f"{T + 30}|NONE|NONE|carol|PAUSEALL|Lunch\n"
        f"{T + 30}|NONE|billing|carol|PAUSE|Lunch\n"
        f"{T + 30}|NONE|tech|carol|PAUSE|Lunch\n"
        + call(T + 10, "c1.0001", "billing", "carol", 60).splitlines(keepends=True)[2]
        + f"{T + 300}|NONE|NONE|carol|UNPAUSEALL|\n"
        f"{T + 300}|NONE|billing|carol|UNPAUSE|\n"
        f"{T + 300}|NONE|tech|carol|UNPAUSE|\n"
    )
    _import(pg, log, tmp_path)
    assert timeline(pg, "carol") == [
        (0, "available", None),
        (12, "on_call", None),  # still talking after the pause at +30
        (72, "away", "lunch"),  # "Lunch" is the lunch class
        (300, "available", None),
    ]


def test_an_unpause_during_a_call_does_not_make_a_talking_agent_available(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = (
        f"{T}|CLI|tech|frank|ADDMEMBER|\n"
        f"{T + 5}|NONE|tech|frank|PAUSE|Break\n"
        f"{T + 10}|NONE|tech|frank|UNPAUSE|\n"
        f"{T + 10}|c2.0002|tech|NONE|ENTERQUEUE||+49305550002|1\n"
        f"{T + 12}|c2.0002|tech|frank|CONNECT|2|c2.0003|2\n"
        f"{T + 20}|NONE|tech|frank|PAUSE|Auto-Pause\n"
        f"{T + 25}|NONE|tech|frank|UNPAUSE|back\n"
        f"{T + 50}|c2.0002|tech|frank|COMPLETECALLER|2|38|1\n"
    )
    _import(pg, log, tmp_path)
    assert timeline(pg, "frank") == [
        (0, "available", None),
        (5, "away", "break"),
        (10, "available", None),
        (12, "on_call", None),  # the pause and unpause at +20/+25 change nothing while talking
        (50, "available", None),
    ]


def test_a_logout_during_a_call_is_a_logout_after_it(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = (
        f"{T}|CLI|tech|erin|ADDMEMBER|\n"
        f"{T + 10}|c3.0003|tech|NONE|ENTERQUEUE||+49305550003|1\n"
        f"{T + 12}|c3.0003|tech|erin|CONNECT|2|c3.0004|2\n"
        f"{T + 20}|CLI|tech|erin|REMOVEMEMBER|\n"
        f"{T + 130}|c3.0003|tech|erin|COMPLETECALLER|2|118|1\n"
        f"{T + 400}|CLI|tech|erin|ADDMEMBER|\n"
    )
    _import(pg, log, tmp_path)
    assert timeline(pg, "erin") == [
        (0, "available", None),
        (12, "on_call", None),
        (130, "logged_out", None),  # never available in between
        (400, "available", None),
    ]


def test_two_addmembers_in_one_second_give_both_queues_whatever_their_ids(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    lines = [f"{T}|CLI|billing|carol|ADDMEMBER|", f"{T}|CLI|tech|carol|ADDMEMBER|"]

    def key(line: str) -> str:
        return hashlib.sha256(line.rstrip("|").encode()).hexdigest()[:24]

    # the first line's event id sorts last: in id order, it would win and drop `tech`
    assert key(lines[0]) > key(lines[1])
    _import(pg, "\n".join(lines) + "\n", tmp_path)
    rows = pg.execute("SELECT state, queues FROM agent_states WHERE agent = 'carol'").fetchall()
    assert rows == [("available", ["billing", "tech"])]


def test_pause_reasons_map_to_away_classes_by_configuration(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = (
        f"{T}|CLI|sales|grace|ADDMEMBER|\n"
        f"{T + 10}|NONE|sales|grace|PAUSE|BREAK\n"
        f"{T + 20}|NONE|sales|grace|UNPAUSE|\n"
        f"{T + 30}|NONE|sales|grace|PAUSE|Kaffeepause\n"
        f"{T + 40}|NONE|sales|grace|UNPAUSE|\n"
        f"{T + 50}|NONE|sales|grace|PAUSE|Auto-Pause\n"
    )
    _import(pg, log, tmp_path, normalizer=Normalizer(reasons={"kaffeepause": "break"}))
    assert [r for r in timeline(pg, "grace") if r[1] == "away"] == [
        (10, "away", "break"),  # a class in any case is that class
        (30, "away", "break"),  # mapped by configuration, case-insensitively
        (50, "away", "Auto-Pause"),  # nothing maps it: kept as it came
    ]
    strict = Normalizer(reasons={"Kaffeepause": "break"}, case_sensitive=True)
    assert (strict.reason("kaffeepause"), strict.reason("Kaffeepause")) == ("kaffeepause", "break")


def test_the_break_metric_fills_from_free_text_reasons(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = (
        f"{T}|CLI|billing|bob|ADDMEMBER|\n"
        f"{T + 60}|NONE|billing|bob|PAUSE|Break\n"
        f"{T + 360}|NONE|billing|bob|UNPAUSE|\n"
        f"{T + 3600}|CLI|billing|bob|REMOVEMEMBER|\n"
    )
    _import(pg, log, tmp_path)
    (away,) = pg.execute(
        "SELECT sum(extract(epoch FROM ended_at - started_at)) FROM agent_states"
        " WHERE agent = 'bob' AND state = 'away' AND reason IN ('break', 'lunch')"
    ).fetchone() or (None,)
    assert away == 300


def test_static_members_come_from_configuration(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = (
        f"{T}|NONE|NONE|NONE|QUEUESTART|\n"
        f"{T + 100}|NONE|billing|alice|PAUSE|Meeting\n"  # paused in every queue she serves
        f"{T + 200}|NONE|billing|alice|UNPAUSE|\n"
    )
    _import(pg, log, tmp_path, static={"alice": ["billing"], "bob": ["billing"]})
    assert timeline(pg, "alice") == [
        (0, "available", None),  # a member from the start, though no line says so
        (100, "away", "meeting"),
        (200, "available", None),
    ]
    assert timeline(pg, "bob") == [(0, "available", None)]
    (queues,) = pg.execute(
        "SELECT queues FROM agent_states WHERE agent = 'bob' AND ended_at IS NULL"
    ).fetchone() or (None,)
    assert queues == ["billing"]


def test_a_pause_in_one_of_two_queues_leaves_the_agent_available(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = (
        f"{T}|CLI|billing|carol|ADDMEMBER|\n"
        f"{T}|CLI|tech|carol|ADDMEMBER|\n"
        f"{T + 10}|NONE|tech|carol|PAUSE|Auto-Pause\n"  # autopause in tech: billing still rings
        f"{T + 20}|NONE|billing|carol|PAUSE|Break\n"
        f"{T + 30}|NONE|tech|carol|UNPAUSE|back\n"
    )
    _import(pg, log, tmp_path)
    assert timeline(pg, "carol") == [
        (0, "available", None),
        (20, "away", "break"),
        (30, "available", None),
    ]


def test_the_follower_reads_a_seconds_lines_together_when_they_come_apart(tmp_path: Path) -> None:
    import threading

    from ingest.sources.base import Raw
    from ingest.sources.follow import HOLD_S, QueueLogFollower, _Pos

    now = [float(T)]
    path = tmp_path / "queue_log"
    path.write_text(f"{T}|CLI|billing|carol|ADDMEMBER|\n")
    tail = QueueLogFollower(path, source="pbx", stop=threading.Event(), clock=lambda: now[0])
    pos = _Pos(path.stat().st_ino)
    with path.open("rb") as f:
        assert tail._drain(f, pos) == []  # the second is now: it may get more lines
        with path.open("a") as w:
            w.write(f"{T}|CLI|tech|carol|ADDMEMBER|\n")
        now[0] += 0.5
        made = tail._drain(f, pos)  # the next second's line has not come: still held...
        assert made == []
        now[0] += HOLD_S  # ...for at most HOLD_S
        made = tail._drain(f, pos)
    states = [i.event for i in made if isinstance(i, Raw)]
    assert [s.queues for s in states] == [["billing", "tech"], ["billing", "tech"]]
    assert pos.offset == path.stat().st_size and pos.line == 2


def test_the_real_runs_record_reader_knows_ami_pauses_and_refuses_what_it_does_not_know(
    tmp_path: Path,
) -> None:
    """tests/sources/real_asterisk.py's `truth`: the record of the AMI run paused carol with an
    AMI action (`kind: ami`, with its fields and Asterisk's answer); a kind the reader ignored
    would leave the record's agent available, and the timeline check pass where it should
    not."""
    from tests.sources import real_asterisk as real

    iface = "Local/1003@agents/n"
    records = [
        {"t": 100, "kind": "start"},
        {
            "t": 101,
            "kind": "cli",
            "cmd": f"queue add member {iface} to tech penalty 0 as carol",
            "out": f"Added interface '{iface}' to queue 'tech'",
        },
        {
            "t": 110,
            "kind": "ami",
            "action": "QueuePause",
            "resp": "Success",
            "fields": {"Interface": iface, "Paused": "true", "Reason": "Lunch"},
        },
        {
            "t": 120,
            "kind": "ami",
            "action": "QueuePause",
            "resp": "Error",
            "fields": {"Interface": iface, "Paused": "false"},
        },
        {
            "t": 130,
            "kind": "manual_ami",
            "action": f"QueuePause Interface={iface} Paused=false (all queues)",
        },
        {"t": 140, "kind": "drained"},
    ]
    path = tmp_path / "driver_truth.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    _, _, timeline = real.truth(path)
    assert [(t, st, r) for t, st, r, _ in timeline["carol"]] == [
        (100.0, "logged_out", None),
        (101.0, "available", None),
        (110.0, "away", "lunch"),  # the refused unpause at 120 changed nothing
        (130.0, "available", None),
    ]
    path.write_text(
        json.dumps(
            {
                "t": 1,
                "kind": "ami",
                "action": "QueueRemove",
                "resp": "Success",
                "fields": {"Interface": iface},
            }
        )
        + "\n"
    )
    with pytest.raises(ValueError, match="QueueRemove"):
        real.truth(path)
    path.write_text(json.dumps({"t": 1, "kind": "supervisor_note"}) + "\n")
    with pytest.raises(ValueError, match="supervisor_note"):
        real.truth(path)
